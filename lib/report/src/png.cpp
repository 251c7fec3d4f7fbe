// PNG encoding of test samples for the gallery, by Debian's libstb-dev (stb_image_write.h; its
// implementation is compiled here and nowhere else), and base64 data URIs.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>

#include "nettrain/core/errors.h"
#include "nettrain/report/gallery.h"

namespace nettrain::report {

namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

}  // namespace

std::string sample_png(const Dataset& data, std::int64_t index, const std::vector<std::int64_t>& shape) {
  const Index c = shape.at(0), h = shape.at(1), w = shape.at(2);
  const Index out_c = c >= 3 ? 3 : 1;  // RGB from the first three channels, else grey
  float lo = 0, hi = 255;
  if (!data.is_u8()) {
    lo = std::numeric_limits<float>::infinity();
    hi = -lo;
    for (Index j = 0; j < c * h * w; ++j) {
      const float v = data.feature(index, j);
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    if (!(hi > lo)) lo = 0, hi = std::isfinite(hi) && hi > 0 ? hi : 1;
  }
  std::vector<unsigned char> pixels(static_cast<std::size_t>(out_c * h * w));
  for (Index y = 0; y < h; ++y)
    for (Index x = 0; x < w; ++x)
      for (Index k = 0; k < out_c; ++k) {
        const float v = data.feature(index, k * h * w + y * w + x);  // planar [C, H, W]
        const float t = std::isfinite(v) ? std::clamp((v - lo) / (hi - lo), 0.0f, 1.0f) : 0.0f;
        pixels[static_cast<std::size_t>((y * w + x) * out_c + k)] = static_cast<unsigned char>(std::lround(255 * t));
      }
  std::string png;
  if (stbi_write_png_to_func(append_bytes, &png, static_cast<int>(w), static_cast<int>(h), static_cast<int>(out_c),
                             pixels.data(), static_cast<int>(w * out_c)) == 0)
    throw IoError(data.source + ": sample " + std::to_string(index) + ": PNG encoding failed");
  return png;
}

std::string png_data_uri(const std::string& png) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "data:image/png;base64,";
  out.reserve(out.size() + (png.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < png.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, png.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<unsigned char>(png[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63u] : '=';
  }
  return out;
}

}  // namespace nettrain::report
