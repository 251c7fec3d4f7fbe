// The processes of this run: MPI's world when nettrain was started by mpirun (and built with
// NETTRAIN_MPI), else one process. The rest of the library sees only core's Collective.
#pragma once

#include <memory>

#include "nettrain/core/collective.h"

namespace nettrain::dist {

// Whether this build can run over MPI.
bool built_with_mpi();

// Whether the environment says mpirun started this process (Open MPI's OMPI_COMM_WORLD_SIZE).
// A plain `nettrain` never initialises MPI: that costs time and prints nothing useful.
bool launched_by_mpirun();

// Joins the world: MPI when launched_by_mpirun() and built with MPI, else single_process().
// Throws ConfigError when launched by mpirun but built without MPI. The returned object
// finalises MPI when destroyed; it lives as long as main.
std::unique_ptr<Collective> join_world();

// Processes of this job on this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE; 1 without it).
int local_processes();

// Ends every process of the job now with `code` (after an error seen by this process only).
[[noreturn]] void abort_world(int code);

}  // namespace nettrain::dist
