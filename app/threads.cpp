// --threads: the size of the library's one thread pool.
#include "threads.h"

#include <algorithm>
#include <thread>

#include "nettrain/core/parallel.h"

namespace nettrain::app {

int use_threads(int requested) {
  const int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // The library's pool is the only one: the matrix products are OpenBLAS sgemm calls on fixed
  // chunks spread over this pool (layers/src/gemm.h), OpenBLAS's own threads never started, and
  // Eigen is built without OpenMP.
  set_num_threads(n);
  return num_threads();
}

}  // namespace nettrain::app
