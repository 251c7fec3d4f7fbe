// How the processes of a data-parallel run (mpirun) stay in step outside the training loop:
// they check at the start that they run the same config on the same data, and a step that may
// fail on some processes only (loading the inputs, writing the run directory on rank 0) ends
// with the same outcome everywhere, so no process is left waiting in a collective.
#pragma once

#include <cstdint>
#include <functional>

#include <nlohmann/json.hpp>

#include "nettrain/core/collective.h"
#include "nettrain/data/data.h"

namespace nettrain {

// Runs `step` (on every process, or on rank 0 only), then shares the outcome: when a process
// threw one of the library's errors, rank 0 throws it (prefixed "rank k: " when it came from
// another process) and the other processes throw an error of the same type and exit code, all
// after comm.set_agreed_failure(). One process: just runs step.
void agree(Collective& comm, bool rank0_only, const std::function<void()>& step);

// FNV-1a 64 of the resolved config, and of the data (every split's shapes, labels, targets and
// feature bytes), as 16 hex digits.
std::string config_digest(const nlohmann::json& config);
std::string data_digest(const DataBundle& data);

// Refuses processes that disagree with rank 0: ConfigError (exit 2) for another config,
// DataError (exit 3) for other data, naming the first rank that differs.
void check_same_inputs(Collective& comm, const nlohmann::json& config, const DataBundle& data);

}  // namespace nettrain
