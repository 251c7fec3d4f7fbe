// The project's one random number generator: xoshiro256** seeded through splitmix64.
//
// Written here rather than taken from <random> because the standard distributions are
// implementation-defined: the same seed must give the same bits on every build, and the whole
// state (four words) must be saved to and restored from a checkpoint exactly.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace nettrain {

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed);
  std::uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits (exact in float).
  float uniform();
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // Uniform integer in [0, n), unbiased (Lemire's multiply-shift with rejection).
  std::uint64_t below(std::uint64_t n);
  // Standard normal (Box–Muller on doubles, one value per call: no hidden cached state).
  double normal();

  // Uniform in [0, 1) with 24 bits that depend on (key, counter) only: splitmix64's output
  // function at key + (counter + 1)·γ. For draws made in any order or in parallel, e.g. a
  // dropout mask whose key is one next_u64() and whose counter is the element's index.
  static float uniform_at(std::uint64_t key, std::uint64_t counter) {
    return static_cast<float>(mix64(key + (counter + 1) * kGamma) >> 40) * 0x1.0p-24f;
  }
  // splitmix64's output function and its increment (γ = 2^64 / golden ratio), shared by
  // the seeding (reseed(), split()) and uniform_at().
  static constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
  static std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // An independent stream for a sub-component (a layer, the data order) derived from this one.
  Rng split(std::uint64_t stream_id) const;

  const State& state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_{};
};

// A state as saved in checkpoints: four decimal strings (JSON readers such as Python's and jq
// lose u64 precision above 2^53).
nlohmann::json rng_state_to_json(const Rng::State& s);
// Throws ModelFileError "<what>: ..." unless `j` is four decimal strings.
Rng::State rng_state_from_json(const nlohmann::json& j, const std::string& what);

}  // namespace nettrain
