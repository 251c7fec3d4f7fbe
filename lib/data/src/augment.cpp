// Random shifts and flips of image batches; see augment.h.
#include "nettrain/data/augment.h"

#include <algorithm>
#include <vector>

#include "nettrain/core/parallel.h"
#include "nettrain/core/rng.h"

namespace nettrain {

AugmentSpec parse_augment(const ConfigNode& node) {
  node.require_object();
  node.check_keys({"shift", "flip"});
  AugmentSpec s;
  if (node.has("shift")) {
    s.shift = node.get_int("shift");
    node.check_range("shift", static_cast<double>(s.shift), 0, 1e6);
  }
  s.flip = node.get_bool_or("flip", false);
  return s;
}

Augmenter::Augmenter(AugmentSpec spec, Index channels, Index height, Index width, std::uint64_t seed)
    : spec_(spec), channels_(channels), height_(height), width_(width), seed_(seed) {}

void Augmenter::apply(Matrix& x, std::uint64_t step, Index first) const {
  if (!spec_.enabled()) return;
  const Index plane = height_ * width_;
  parallel_ranges(x.rows(), 16, [&](Index r0, Index r1) {
    std::vector<float> scratch(static_cast<std::size_t>(channels_ * plane));
    for (Index r = r0; r < r1; ++r) apply_row(x.row(r).data(), scratch.data(), step, first + r);
  });
}

void Augmenter::apply_row(float* row, float* scratch, std::uint64_t step, Index position) const {
  // One stream per (seed, step, position): Rng's seeding mixes the key.
  Rng rng(seed_ ^ (step * 0x9E3779B97F4A7C15ULL) ^ (static_cast<std::uint64_t>(position) * 0xD1B54A32D192ED03ULL));
  const auto span = static_cast<std::uint64_t>(2 * spec_.shift + 1);
  const Index dy = spec_.shift > 0 ? static_cast<Index>(rng.below(span)) - spec_.shift : 0;
  const Index dx = spec_.shift > 0 ? static_cast<Index>(rng.below(span)) - spec_.shift : 0;
  const bool flip = spec_.flip && rng.below(2) == 1;
  if (dx == 0 && dy == 0 && !flip) return;
  const Index plane = height_ * width_;
  std::copy(row, row + channels_ * plane, scratch);
  // out(c, y, x) = in(c, y - dy, f(x - dx)), f the flip (or identity); 0 outside the image.
  for (Index c = 0; c < channels_; ++c) {
    const float* src = scratch + c * plane;
    float* dst = row + c * plane;
    for (Index y = 0; y < height_; ++y) {
      const Index sy = y - dy;
      float* out = dst + y * width_;
      if (sy < 0 || sy >= height_) {
        std::fill(out, out + width_, 0.0f);
        continue;
      }
      const float* in = src + sy * width_;
      for (Index x = 0; x < width_; ++x) {
        const Index sx = x - dx;
        out[x] = (sx < 0 || sx >= width_) ? 0.0f : in[flip ? width_ - 1 - sx : sx];
      }
    }
  }
}

}  // namespace nettrain
