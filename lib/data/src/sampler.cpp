// BatchSampler: seeded per-epoch permutations that can be saved and resumed mid-epoch.
#include <algorithm>
#include <numeric>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

namespace nettrain {

BatchSampler::BatchSampler(Index num_samples, Index batch_size, bool shuffle, std::uint64_t seed)
    : n_(num_samples), batch_(batch_size), shuffle_(shuffle), rng_(Rng(seed).split(0xDA7A0BDEull)) {
  if (n_ <= 0) throw DataError("batch sampler: the dataset has no samples");
  if (batch_ <= 0) throw DataError("batch sampler: batch size must be positive, got " + std::to_string(batch_));
  build_order();
}

void BatchSampler::build_order() {
  epoch_start_ = rng_.state();
  order_.resize(static_cast<std::size_t>(n_));
  std::iota(order_.begin(), order_.end(), Index{0});
  if (!shuffle_) return;
  // Fisher–Yates from the identity, so the order depends only on the Rng state.
  for (std::size_t i = order_.size() - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(rng_.below(i + 1));
    std::swap(order_[i], order_[j]);
  }
}

bool BatchSampler::next(std::vector<Index>& indices) {
  const auto n = static_cast<std::uint64_t>(n_);
  if (position_ >= n) {
    ++epoch_;
    position_ = 0;
    build_order();
    indices.clear();
    return false;
  }
  const std::uint64_t end = std::min(n, position_ + static_cast<std::uint64_t>(batch_));
  indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(position_),
                 order_.begin() + static_cast<std::ptrdiff_t>(end));
  position_ = end;
  return true;
}

SamplerState BatchSampler::state() const { return SamplerState{epoch_start_, epoch_, position_}; }

void BatchSampler::restore(const SamplerState& s) {
  if (s.position > static_cast<std::uint64_t>(n_))
    throw DataError("batch sampler: saved position " + std::to_string(s.position) + " is beyond the " +
                    std::to_string(n_) + " samples of the dataset");
  rng_.set_state(s.rng);
  epoch_ = s.epoch;
  build_order();
  position_ = s.position;
}

nlohmann::json SamplerState::to_json() const {
  return {{"rng", rng_state_to_json(rng)}, {"epoch", epoch}, {"position", position}};
}

SamplerState SamplerState::from_json(const nlohmann::json& j) {
  SamplerState s;
  try {
    s.rng = rng_state_from_json(j.at("rng"), "sampler state: rng");
    s.epoch = j.at("epoch").get<std::uint64_t>();
    s.position = j.at("position").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(std::string("sampler state: ") + e.what());
  }
  return s;
}

}  // namespace nettrain
