// The progress bar of `train` on a terminal: epoch, step/total, loss, accuracy, samples/s, ETA,
// redrawn in place at most ten times a second. Off when stderr is not a TTY or with --quiet.
#pragma once

#include <chrono>
#include <cstdint>

namespace nettrain::app {

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::int64_t epochs) : enabled_(enabled), epochs_(epochs) {}
  void update(std::int64_t epoch, std::int64_t batch, std::int64_t batches, double loss, double accuracy,
              double samples_per_second, std::int64_t batch_size);
  // Erases the bar so a log line can be printed in its place.
  void clear();

 private:
  bool enabled_;
  std::int64_t epochs_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace nettrain::app
