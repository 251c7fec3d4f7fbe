#include "threads.h"

#include <algorithm>
#include <thread>

#include "nettrain/core/parallel.h"

namespace nettrain::app {

int use_threads(int requested) {
  const int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // The library's pool is the only one: Eigen is built without OpenMP, so its products are
  // single-threaded chunks of the pool's loops.
  set_num_threads(n);
  return num_threads();
}

}  // namespace nettrain::app
