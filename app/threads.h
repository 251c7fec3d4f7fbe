// The one owner of the cores: sizes the library's thread pool (nettrain/parallel.h) from --threads.
#pragma once

namespace nettrain::app {

// 0 means all cores. Returns the count in use.
int use_threads(int requested);

}  // namespace nettrain::app
