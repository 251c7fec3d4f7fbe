#include "progress.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace nettrain::app {

void ProgressBar::update(std::int64_t epoch, std::int64_t batch, std::int64_t batches, double loss, double accuracy,
                         double samples_per_second, std::int64_t batch_size) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (batch != batches && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(kWidth * batch / std::max<std::int64_t>(batches, 1));
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  const double left = static_cast<double>((batches - batch) * batch_size) / std::max(samples_per_second, 1e-9);
  const int eta = static_cast<int>(std::lround(left));
  char acc[32] = "";
  if (!std::isnan(accuracy)) std::snprintf(acc, sizeof acc, " acc %.4f", accuracy);
  std::fprintf(stderr, "\r\033[2Kepoch %lld/%lld [%s] %lld/%lld loss %.4f%s %.0f samples/s ETA %d:%02d",
               static_cast<long long>(epoch), static_cast<long long>(epochs_), bar.c_str(),
               static_cast<long long>(batch), static_cast<long long>(batches), loss, acc, samples_per_second, eta / 60,
               eta % 60);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[2K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace nettrain::app
