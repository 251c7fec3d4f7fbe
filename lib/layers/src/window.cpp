// Sliding-window geometry for conv2d and pooling; see window.h.
#include "window.h"

#include <algorithm>

#include "nettrain/core/errors.h"

namespace nettrain {

namespace {

std::string pair_str(Index a, Index b) {
  return a == b ? std::to_string(a) : std::to_string(a) + "x" + std::to_string(b);
}

// An int or [h, w] of ints >= `min`; `fallback` (both) when absent and fallback > 0.
void read_pair(const ConfigNode& node, const std::string& key, Index min, Index fallback, Index& h, Index& w) {
  const std::string expected =
      "expected " + std::string(min > 0 ? "a positive integer" : "a non-negative integer") + " or [height, width]";
  if (!node.has(key)) {
    if (fallback <= 0) node.fail(key, "required key is missing");
    h = w = fallback;
    return;
  }
  const nlohmann::json& j = node.json().at(key);
  auto as_int = [&](const nlohmann::json& v) -> Index {
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > 1000000)
      node.fail(key, expected + ", got " + describe_json(j));
    return static_cast<Index>(v.get<std::int64_t>());
  };
  if (j.is_array()) {
    if (j.size() != 2) node.fail(key, expected + ", got an array of " + std::to_string(j.size()));
    h = as_int(j[0]);
    w = as_int(j[1]);
  } else {
    h = w = as_int(j);
  }
}

// Output positions along one axis and the padding before, or 0 when the kernel does not fit.
void axis(Window::Pad pad, Index in, Index k, Index s, Index p, Index& out, Index& before, Index& padded) {
  if (pad == Window::Pad::same) {
    out = (in + s - 1) / s;
    const Index total = std::max<Index>((out - 1) * s + k - in, 0);
    before = total / 2;
    padded = in + total;
    return;
  }
  before = pad == Window::Pad::valid ? 0 : p;
  padded = in + 2 * before;
  out = padded >= k ? (padded - k) / s + 1 : 0;
}

}  // namespace

Window Window::read(const ConfigNode& node, Index kernel, bool stride_default_kernel, bool allow_same) {
  Window w;
  read_pair(node, "kernel", 1, kernel, w.kh, w.kw);
  if (stride_default_kernel && !node.has("stride")) {
    w.sh = w.kh;
    w.sw = w.kw;
  } else {
    read_pair(node, "stride", 1, 1, w.sh, w.sw);
  }
  if (node.has("padding") && node.json().at("padding").is_string()) {
    const std::vector<std::string> choices =
        allow_same ? std::vector<std::string>{"valid", "same"} : std::vector<std::string>{"valid"};
    w.pad = node.get_choice("padding", choices) == "same" ? Pad::same : Pad::valid;
  } else if (node.has("padding")) {
    w.pad = Pad::explicit_;
    read_pair(node, "padding", 0, 0, w.ph, w.pw);
  }
  return w;
}

void require_chw(const Shape& s) {
  if (s.rank() != 3)
    throw ConfigError("expected an input of shape [channels, height, width], got " + s.str() +
                      " (set model.input_shape to e.g. [1, 28, 28])");
}

void Window::resolve(const Shape& input) {
  require_chw(input);
  C = input[0];
  H = input[1];
  W = input[2];
  Index padded_h = 0, padded_w = 0;
  axis(pad, H, kh, sh, ph, OH, top, padded_h);
  axis(pad, W, kw, sw, pw, OW, left, padded_w);
  if (kh > padded_h || kw > padded_w)
    throw ConfigError("kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " is larger than the " +
                      (padded_h == H && padded_w == W ? "" : "padded ") + "input " + std::to_string(padded_h) + "x" +
                      std::to_string(padded_w) + " (input " + input.str() + ")");
}

void Window::valid_range_h(Index i, Index& lo, Index& hi) const {
  // ih = oh·sh − top + i in [0, H)  ⇔  oh in [ceil((top − i)/sh), floor((H − 1 + top − i)/sh)]
  const Index a = top - i, b = H - 1 + top - i;
  lo = a <= 0 ? 0 : std::min(OH, (a + sh - 1) / sh);
  hi = b < 0 ? 0 : std::min(OH, b / sh + 1);
  hi = std::max(hi, lo);
}

void Window::valid_range_w(Index j, Index& lo, Index& hi) const {
  const Index a = left - j, b = W - 1 + left - j;
  lo = a <= 0 ? 0 : std::min(OW, (a + sw - 1) / sw);
  hi = b < 0 ? 0 : std::min(OW, b / sw + 1);
  hi = std::max(hi, lo);
}

nlohmann::json Window::settings() const {
  return {{"kernel", {kh, kw}}, {"stride", {sh, sw}}, {"pad_before", {top, left}}};
}

std::string Window::describe() const {
  std::string s =
      "kernel=" + std::to_string(kh) + "x" + std::to_string(kw) + " stride=" + pair_str(sh, sw) + " padding=";
  if (pad == Pad::valid) return s + "valid";
  if (pad == Pad::same) return s + "same";
  return s + pair_str(ph, pw);
}

}  // namespace nettrain
