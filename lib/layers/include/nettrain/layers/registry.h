// The layer registry: every layer type a config can name, filled in layer_registry.cpp.
#pragma once

#include "nettrain/core/registry.h"
#include "nettrain/layers/layer.h"

namespace nettrain {

const Registry<Layer>& layer_registry();

}  // namespace nettrain
