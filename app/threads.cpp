// --threads: the size of the library's one thread pool (default: the cores, shared by the
// processes of an mpirun job on this machine).
#include "threads.h"

#include <algorithm>
#include <thread>

#include "nettrain/core/parallel.h"
#include "nettrain/dist/world.h"

namespace nettrain::app {

int use_threads(int requested) {
  // Several processes of one job on this machine (mpirun) share its cores.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n = requested > 0 ? requested : std::max(1, cores / dist::local_processes());
  // The library's pool is the only one: the matrix products are OpenBLAS sgemm calls on fixed
  // chunks spread over this pool (layers/src/gemm.h), OpenBLAS's own threads never started, and
  // Eigen is built without OpenMP.
  set_num_threads(n);
  return num_threads();
}

}  // namespace nettrain::app
