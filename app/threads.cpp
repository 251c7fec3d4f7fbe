#include "threads.h"

#include <Eigen/Core>
#include <thread>

namespace nettrain::app {

int use_threads(int requested) {
  int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Eigen::setNbThreads(n);
  return Eigen::nbThreads();
}

}  // namespace nettrain::app
