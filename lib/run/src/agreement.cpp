// The processes' agreement on the inputs and on failures; see agreement.h.
#include "nettrain/run/agreement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "nettrain/core/errors.h"

namespace nettrain {

namespace {

[[noreturn]] void throw_coded(int code, const std::string& message) {
  switch (code) {
    case 2: throw ConfigError(message);
    case 3: throw DataError(message);
    case 4: throw ModelFileError(message);
    case 5: throw IoError(message);
    default: throw TrainingError(message);
  }
}

struct Fnv {
  std::uint64_t h = 14695981039346656037ull;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  template <typename T>
  void value(const T& v) {
    bytes(&v, sizeof v);
  }
  std::string hex() const { return fmt::format("{:016x}", h); }
};

// The split's size, shape, labels and targets, and the features of up to 256 samples spread over
// it: read through the dataset's accessors, so a process that maps the data (or its cache) and one
// that parsed it agree, and a data set larger than memory is not read whole.
void digest_split(Fnv& f, const Dataset& d) {
  d.check_mapped();
  f.value(d.num_samples);
  for (std::size_t i = 0; i < d.sample_shape.rank(); ++i) f.value(d.sample_shape[i]);
  const Index features = d.num_features(), n = d.num_samples, picks = std::min<Index>(n, 256);
  for (Index k = 0; k < picks; ++k) {
    const Index row = d.storage_row(k * n / picks);
    if (d.is_u8()) f.bytes(d.u8_data() + row * features, static_cast<std::size_t>(features));
    else f.bytes(d.f32_data() + row * features, static_cast<std::size_t>(features) * sizeof(float));
  }
  f.bytes(d.labels.data(), d.labels.size() * sizeof(std::int32_t));
  f.bytes(d.targets.data(), static_cast<std::size_t>(d.targets.size()) * sizeof(float));
}

}  // namespace

void agree(Collective& comm, bool rank0_only, const std::function<void()>& step) {
  if (comm.size() == 1) return step();
  std::exception_ptr mine;
  std::string outcome;  // "" or "<exit code>\t<message>"
  if (!rank0_only || comm.rank() == 0) {
    try {
      step();
    } catch (const Error& e) {
      mine = std::current_exception();
      outcome = fmt::format("{}\t{}", e.exit_code(), e.what());
    }
  }
  const std::vector<std::string> all = comm.gather(outcome);
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    comm.set_agreed_failure();
    if (comm.rank() == 0 && mine) std::rethrow_exception(mine);
    const std::size_t tab = all[r].find('\t');
    const int code = std::stoi(all[r].substr(0, tab));
    throw_coded(code, fmt::format("rank {}: {}", r, all[r].substr(tab + 1)));
  }
}

std::string config_digest(const nlohmann::json& config) {
  Fnv f;
  const std::string text = config.dump();
  f.bytes(text.data(), text.size());
  return f.hex();
}

std::string data_digest(const DataBundle& data) {
  Fnv f;
  digest_split(f, data.train);
  f.value(data.validation.has_value());
  if (data.validation) digest_split(f, *data.validation);
  f.value(data.test.has_value());
  if (data.test) digest_split(f, *data.test);
  return f.hex();
}

void check_same_inputs(Collective& comm, const nlohmann::json& config, const DataBundle& data) {
  if (comm.size() == 1) return;
  const std::vector<std::string> configs = comm.gather(config_digest(config));
  const std::vector<std::string> datas = comm.gather(data_digest(data));
  auto differing = [](const std::vector<std::string>& v) {
    for (std::size_t r = 1; r < v.size(); ++r)
      if (v[r] != v[0]) return static_cast<int>(r);
    return 0;
  };
  if (const int r = differing(configs)) {
    comm.set_agreed_failure();
    throw ConfigError(fmt::format(
        "rank {} resolved another config than rank 0 (digest {} vs {}): every process must be started with the "
        "same config file, --set and --seed",
        r, configs[static_cast<std::size_t>(r)], configs[0]));
  }
  if (const int r = differing(datas)) {
    comm.set_agreed_failure();
    throw DataError(fmt::format(
        "rank {} read other data than rank 0 (digest {} vs {}): every process must read the same data files", r,
        datas[static_cast<std::size_t>(r)], datas[0]));
  }
}

}  // namespace nettrain
