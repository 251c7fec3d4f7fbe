// xoshiro256** (Blackman & Vigna), seeded through splitmix64 so that any 64-bit seed, including
// 0, gives a well-mixed state.
#include "nettrain/core/rng.h"

#include "nettrain/core/errors.h"

#include <cmath>
#include <numbers>

namespace nettrain {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  x += Rng::kGamma;
  return Rng::mix64(x);
}

__extension__ using u128 = unsigned __int128;

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void Rng::reseed(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Rng::uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

double Rng::uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t Rng::below(std::uint64_t n) {
  // Multiply-shift maps a 64-bit draw to [0, n); rejecting the low sliver removes the bias.
  u128 m = static_cast<u128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<u128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

double Rng::normal() {
  // 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - uniform_double();
  const double u2 = uniform_double();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Rng Rng::split(std::uint64_t stream_id) const {
  std::uint64_t x = s_[0] ^ rotl(s_[2], 23) ^ (stream_id * 0xd1b54a32d192ed03ULL);
  Rng r;
  State s;
  for (auto& w : s) w = splitmix64(x);
  r.set_state(s);
  return r;
}

nlohmann::json rng_state_to_json(const Rng::State& s) {
  nlohmann::json words = nlohmann::json::array();
  for (auto w : s) words.push_back(std::to_string(w));
  return words;
}

Rng::State rng_state_from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_array() || j.size() != 4) throw ModelFileError(what + ": an RNG state must be 4 words");
  Rng::State s{};
  try {
    for (std::size_t i = 0; i < 4; ++i) s[i] = std::stoull(j[i].get<std::string>());
  } catch (const std::exception&) {
    throw ModelFileError(what + ": an RNG state must be 4 words given as decimal strings");
  }
  return s;
}

}  // namespace nettrain
