// The one owner of the cores: sets the thread count of Eigen's products (OpenMP) and returns it.
#pragma once

namespace nettrain::app {

// 0 means all cores. Returns the count in use.
int use_threads(int requested);

}  // namespace nettrain::app
