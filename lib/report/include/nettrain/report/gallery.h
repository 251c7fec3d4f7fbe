// Test images in the report: PNG thumbnails (encoded by stb_image_write, as data URIs) of the
// most confidently wrong predictions, and for each class the classes it is most often mistaken
// for with examples.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nettrain/report/report.h"

namespace nettrain::report {

// Channels, height, width of the test samples as images, or empty when they are not images:
// a model input of [C, H, W], or IDX samples of [H, W] (then C = 1).
std::vector<std::int64_t> image_shape(const RunData& run, const Dataset& data);

// PNG bytes of sample `index` of `data` (shape from image_shape; 1 or 3 channels), pixel values
// mapped to 0-255 (u8 data as is, other data by the sample's min and max).
std::string sample_png(const Dataset& data, std::int64_t index, const std::vector<std::int64_t>& shape);

// "data:image/png;base64,...".
std::string png_data_uri(const std::string& png);

// The gallery sections (HTML). `shape` from image_shape.
std::string gallery_html(const TestOutputs& test, const std::vector<std::int64_t>& shape);

}  // namespace nettrain::report
