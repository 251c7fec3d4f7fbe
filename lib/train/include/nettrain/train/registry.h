// The registries of the training module: losses, optimizers and LR schedules, filled in
// train_registry.cpp.
#pragma once

#include "nettrain/core/registry.h"
#include "nettrain/train/loss.h"
#include "nettrain/train/optimizer.h"
#include "nettrain/train/schedule.h"

namespace nettrain {

const Registry<Loss>& loss_registry();
const Registry<Optimizer>& optimizer_registry();
const Registry<Schedule>& schedule_registry();

}  // namespace nettrain
