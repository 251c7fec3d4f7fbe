// Trainer: the loss falls on a separable toy problem; same seed -> same bits; a run stopped and
// restored from its saved state ends with the same weights as an unbroken one; divergence stops
// training with a message naming epoch and step.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nettrain/run/config.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/train/trainer.h"

using namespace nettrain;
using json = nlohmann::json;

namespace {

// Two Gaussian clouds at (-1, -1) and (1, 1), labels 0 and 1.
Dataset two_clouds(Index n, std::uint64_t seed) {
  Dataset d;
  d.source = "clouds";
  d.num_samples = n;
  d.sample_shape = Shape{2};
  d.num_classes = 2;
  Rng rng(seed);
  for (Index i = 0; i < n; ++i) {
    const int label = static_cast<int>(i % 2);
    const float centre = label == 0 ? -1.0f : 1.0f;
    d.x_f32.push_back(centre + 0.3f * static_cast<float>(rng.normal()));
    d.x_f32.push_back(centre + 0.3f * static_cast<float>(rng.normal()));
    d.labels.push_back(label);
  }
  return d;
}

Config make_config(const std::string& optimizer, const std::string& schedule, int epochs) {
  json j = json::parse(R"({
    "seed": 5,
    "data": {"train": {"path": "unused.csv"}},
    "model": {"input_shape": [2], "layers": [
      {"type": "affine", "units": 8, "name": "fc1"}, {"type": "batchnorm"}, {"type": "relu"},
      {"type": "dropout", "rate": 0.2}, {"type": "affine", "units": 2, "name": "out"}]},
    "training": {"batch_size": 16, "log_every_steps": 0}})");
  j["training"]["optimizer"] = json::parse(optimizer);
  j["training"]["lr_schedule"] = json::parse(schedule);
  j["training"]["epochs"] = epochs;
  return config_from_json(j, "trainer.json", ".");
}

struct Run {
  Experiment ex;
  std::vector<EpochMetrics> epochs;
};

// Trains `epochs` epochs from scratch, or, with stop_after > 0, stops after that many steps,
// saves everything a checkpoint holds, builds a fresh experiment and continues from it.
Run train(const Config& config, const Dataset& data, std::int64_t stop_after = 0) {
  Run r{build_experiment(config), {}};
  r.ex.net.init_params(r.ex.options.seed);
  const Preprocess pp;
  TrainCallbacks cb;
  cb.on_epoch_end = [&](const EpochMetrics& m, bool) { r.epochs.push_back(m); };
  if (stop_after == 0) {
    Trainer(r.ex.net, *r.ex.loss, *r.ex.optimizer, *r.ex.schedule, r.ex.options).train(data, &data, pp, cb);
    return r;
  }
  TrainerState saved;
  std::int64_t steps = 0;
  TrainCallbacks first = cb;
  first.should_stop = [&]() { return steps++ >= stop_after; };
  first.on_checkpoint = [&](const TrainerState& s) { saved = s; };
  Trainer t1(r.ex.net, *r.ex.loss, *r.ex.optimizer, *r.ex.schedule, r.ex.options);
  CHECK_THROWS_AS(t1.train(data, &data, pp, first), TrainingError);
  // What a checkpoint carries, through its serialised forms.
  const Vector params = r.ex.net.params(), buffers = r.ex.net.buffers();
  std::vector<Vector> opt_state;
  for (auto& [name, v] : r.ex.optimizer->state()) opt_state.push_back(*v);
  const std::int64_t opt_steps = r.ex.optimizer->steps();
  const auto sched_state = r.ex.schedule->state();
  const TrainerState state = TrainerState::from_json(json::parse(saved.to_json().dump()));

  Run resumed{build_experiment(config), r.epochs};
  resumed.ex.net.params() = params;
  resumed.ex.net.buffers() = buffers;
  Trainer t2(resumed.ex.net, *resumed.ex.loss, *resumed.ex.optimizer, *resumed.ex.schedule, resumed.ex.options);
  std::size_t k = 0;
  for (auto& [name, v] : resumed.ex.optimizer->state()) *v = opt_state[k++];
  resumed.ex.optimizer->set_steps(opt_steps);
  resumed.ex.schedule->set_state(sched_state);
  t2.restore(state);
  TrainCallbacks second;
  second.on_epoch_end = [&](const EpochMetrics& m, bool) { resumed.epochs.push_back(m); };
  t2.train(data, &data, pp, second);
  return resumed;
}

}  // namespace

TEST_CASE("trainer: the loss falls on a separable toy problem") {
  const Dataset data = two_clouds(400, 1);
  const Run r = train(make_config(R"({"type": "sgd", "lr": 0.1, "momentum": 0.9})", R"("constant")", 5), data);
  REQUIRE(r.epochs.size() == 5);
  CHECK(r.epochs.back().train_loss < 0.5 * r.epochs.front().train_loss);
  CHECK(*r.epochs.back().val_accuracy > 0.97);
  CHECK(r.epochs.front().epoch == 1);
}

TEST_CASE("trainer: same seed, same bits") {
  const Dataset data = two_clouds(200, 2);
  const Config c = make_config(R"({"type": "adam", "lr": 0.01})", R"({"type": "cosine", "warmup_epochs": 1})", 3);
  const Run a = train(c, data), b = train(c, data);
  CHECK(a.ex.net.params() == b.ex.net.params());
  CHECK(a.ex.net.buffers() == b.ex.net.buffers());
  CHECK(a.epochs.back().train_loss == b.epochs.back().train_loss);
}

TEST_CASE("trainer: a stopped and restored run ends with the same weights as an unbroken one") {
  const Dataset data = two_clouds(200, 3);  // 13 steps per epoch at batch 16
  const std::vector<std::pair<std::string, std::string>> recipes = {
      {R"({"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true})", R"({"type": "step", "step_size": 1})"},
      {R"({"type": "adagrad", "lr": 0.05})", R"({"type": "exponential"})"},
      {R"({"type": "rmsprop", "lr": 0.01, "momentum": 0.5})", R"({"type": "cosine", "warmup_epochs": 1})"},
      {R"({"type": "adam", "lr": 0.01, "weight_decay": 0.001})", R"({"type": "reduce_on_plateau", "patience": 1})"},
      {R"({"type": "adamw", "lr": 0.01})", R"("constant")"}};
  for (const auto& [opt, sched] : recipes) {
    CAPTURE(opt);
    const Config c = make_config(opt, sched, 3);
    const Run whole = train(c, data);
    for (std::int64_t stop : {5, 13, 20}) {  // mid-epoch, at the epoch boundary, mid-epoch 2
      CAPTURE(stop);
      const Run resumed = train(c, data, stop);
      CHECK(resumed.ex.net.params() == whole.ex.net.params());
      CHECK(resumed.ex.net.buffers() == whole.ex.net.buffers());
      REQUIRE(resumed.epochs.size() == whole.epochs.size());
      for (std::size_t e = 0; e < whole.epochs.size(); ++e) {
        CHECK(resumed.epochs[e].train_loss == whole.epochs[e].train_loss);
        CHECK(resumed.epochs[e].val_loss == whole.epochs[e].val_loss);
        CHECK(resumed.epochs[e].lr == whole.epochs[e].lr);
      }
    }
  }
}

TEST_CASE("trainer: divergence stops with the epoch and step") {
  const Dataset data = two_clouds(64, 4);
  const Config c = make_config(R"({"type": "sgd", "lr": 1e30})", R"("constant")", 2);
  Experiment ex = build_experiment(c);
  ex.net.init_params(1);
  Trainer t(ex.net, *ex.loss, *ex.optimizer, *ex.schedule, ex.options);
  std::string message;
  try {
    t.train(data, nullptr, Preprocess(), TrainCallbacks());
  } catch (const TrainingError& e) {
    message = e.what();
  }
  CHECK(message.find("training diverged at epoch 1, step ") == 0);
}

namespace {
// Trainer::step_batch checks, updates and clears each layer's gradient in blocks, each layer's
// as soon as backward has made it final; the hand loop does the same work in the plain order
// (zero, backward, step) and must end with the same bits.
void check_update_pass(const json& layers, const json& optimizer, const Dataset& data) {
  json j = json::parse(R"({
    "seed": 5,
    "data": {"train": {"path": "unused.csv"}},
    "model": {},
    "training": {"batch_size": 64, "epochs": 3, "shuffle": false, "log_every_steps": 0}})");
  j["model"]["input_shape"] = data.sample_shape.dims;
  j["model"]["layers"] = layers;
  j["training"]["optimizer"] = optimizer;
  const Config c = config_from_json(j, "trainer.json", ".");
  Experiment a = build_experiment(c);
  Experiment b = build_experiment(c);
  a.net.init_params(1);
  b.net.init_params(1);
  Trainer(a.net, *a.loss, *a.optimizer, *a.schedule, a.options).train(data, nullptr, Preprocess(), TrainCallbacks());

  b.optimizer->reset(b.net.params().size());
  std::vector<Index> all(64);
  for (Index i = 0; i < 64; ++i) all[static_cast<std::size_t>(i)] = i;
  Batch batch;
  Matrix dz;
  const float lr = optimizer.at("lr").get<float>();
  for (int step = 0; step < 3; ++step) {
    data.fill_batch(all, Preprocess(), batch);
    const Matrix& z = b.net.forward(batch.x, Mode::train);
    b.loss->forward(z, batch.targets(data.task));
    b.loss->set_mean_rows(64);
    b.loss->backward(dz);
    b.net.zero_grads();
    b.net.backward(dz);
    b.optimizer->step(VectorMap(b.net.params().data(), b.net.params().size()),
                      ConstVectorMap(b.net.grads().data(), b.net.grads().size()), lr);
  }
  REQUIRE(a.net.params().size() == b.net.params().size());
  CHECK(std::memcmp(a.net.params().data(), b.net.params().data(),
                    sizeof(float) * static_cast<std::size_t>(a.net.params().size())) == 0);
  CHECK(b.net.grads().cwiseAbs().maxCoeff() > 0.0f);   // the hand loop's last gradient is there
  CHECK(a.net.grads().cwiseAbs().maxCoeff() == 0.0f);  // the trainer's was cleared after use
}
}  // namespace

TEST_CASE("trainer: the update pass equals zero, backward, step; and leaves the gradient zeroed") {
  const Dataset clouds = two_clouds(64, 4);
  const json sgd = json::parse(R"({"type": "sgd", "lr": 0.1, "momentum": 0.9})");
  check_update_pass(
      json::parse(R"([{"type": "affine", "units": 8}, {"type": "relu"}, {"type": "affine", "units": 2}])"), sgd,
      clouds);
  // 192 + 4160 + 130 parameters: the pass's blocks of 2048 start in the first two layers, and
  // the block that starts in the second runs on into the third (updated after the second's
  // backward, when both are final).
  const json wider = json::parse(R"([{"type": "affine", "units": 64}, {"type": "relu"},
      {"type": "affine", "units": 64}, {"type": "relu"}, {"type": "affine", "units": 2}])");
  check_update_pass(wider, sgd, clouds);
  check_update_pass(wider, json::parse(R"({"type": "adam", "lr": 0.01})"), clouds);
  // The first parameters are a batchnorm's that its pool takes in (AVX-512 builds): no backward
  // of its own tells of them, and the block they start is updated after the whole backward.
  Dataset images = clouds;  // 2 channels of 2 x 2: a cloud coordinate each, with noise
  images.sample_shape = Shape{2, 2, 2};
  images.x_f32.clear();
  Rng rng(6);
  for (std::size_t i = 0; i < 64; ++i)
    for (std::size_t k = 0; k < 8; ++k)
      images.x_f32.push_back(clouds.x_f32[2 * i + k / 4] + 0.1f * static_cast<float>(rng.normal()));
  check_update_pass(json::parse(R"([{"type": "batchnorm"}, {"type": "maxpool2d"}, {"type": "flatten"},
      {"type": "affine", "units": 8}, {"type": "relu"}, {"type": "affine", "units": 2}])"),
                    sgd, images);
  // 76 + 8 + 2885 + 12 parameters: the conv layer's weight gradients come from the batchnorm's
  // segments, and the batchnorm reads the conv layer's weights in its backward (before the conv
  // layer's update); the second block starts in the first affine layer.
  Dataset noise = clouds;
  noise.sample_shape = Shape{2, 12, 12};
  noise.x_f32.clear();
  for (std::size_t i = 0; i < 64 * 288; ++i) noise.x_f32.push_back(static_cast<float>(rng.uniform()) - 0.5f);
  check_update_pass(json::parse(R"([
      {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
      {"type": "relu"}, {"type": "maxpool2d"}, {"type": "flatten"},
      {"type": "affine", "units": 5}, {"type": "relu"}, {"type": "affine", "units": 2}])"),
                    sgd, noise);
}

TEST_CASE("trainer: early stopping ends the run after `patience` epochs without improvement") {
  const Dataset data = two_clouds(100, 5);
  json j = make_config(R"({"type": "sgd", "lr": 1e-9})", R"("constant")", 50).json;
  j["training"]["early_stopping"] = {{"monitor", "val_loss"}, {"patience", 2}, {"min_delta", 1.0}};
  const Run r = train(config_from_json(j, "t.json", "."), data);
  // Nothing improves val_loss by 1.0, so epochs 2 and 3 are bad: stop after epoch 3.
  CHECK(r.epochs.size() == 3);
}

// training.batch_shards > 1 on a network without batchnorm: every shard trains in a replica of
// the network on its own thread (Trainer::step_replicas).
namespace {
Config sharded_config(std::int64_t shards, Index batch) {
  json j = json::parse(R"({
    "seed": 9,
    "data": {"train": {"path": "unused.csv"}},
    "model": {"input_shape": [2], "layers": [
      {"type": "affine", "units": 16, "name": "fc1"}, {"type": "relu"},
      {"type": "dropout", "rate": 0.3}, {"type": "affine", "units": 2, "name": "out"}]},
    "training": {"epochs": 3, "log_every_steps": 0, "optimizer": {"type": "adam", "lr": 0.01}}})");
  j["training"]["batch_size"] = batch;
  j["training"]["batch_shards"] = shards;
  return config_from_json(j, "sharded.json", ".");
}

Vector train_params(const Config& config, const Dataset& data, int threads, std::vector<EpochMetrics>* epochs) {
  set_num_threads(threads);
  Experiment ex = build_experiment(config);
  ex.net.init_params(ex.options.seed);
  TrainCallbacks cb;
  cb.on_epoch_end = [&](const EpochMetrics& m, bool) {
    if (epochs) epochs->push_back(m);
  };
  Trainer(ex.net, *ex.loss, *ex.optimizer, *ex.schedule, ex.options).train(data, nullptr, Preprocess(), cb);
  set_num_threads(1);
  return ex.net.params();
}
}  // namespace

TEST_CASE("trainer: shards on threads give the same bits for 1, 2 and 3 threads, and the one-network result") {
  const Dataset data = two_clouds(250, 4);  // batches of 32: the last one has 26 rows
  CHECK(build_experiment(sharded_config(4, 32)).net.can_replicate());
  std::vector<EpochMetrics> m1, m2, m3, whole;
  const Vector p1 = train_params(sharded_config(4, 32), data, 1, &m1);
  const Vector p2 = train_params(sharded_config(4, 32), data, 2, &m2);
  const Vector p3 = train_params(sharded_config(4, 32), data, 3, &m3);
  REQUIRE(p1.size() == p2.size());
  CHECK(std::memcmp(p1.data(), p2.data(), sizeof(float) * static_cast<std::size_t>(p1.size())) == 0);
  CHECK(std::memcmp(p1.data(), p3.data(), sizeof(float) * static_cast<std::size_t>(p1.size())) == 0);
  REQUIRE(m1.size() == 3);
  for (std::size_t e = 0; e < m1.size(); ++e) {
    CHECK(m1[e].train_loss == m2[e].train_loss);
    CHECK(m1[e].train_accuracy == m3[e].train_accuracy);
  }
  // The same arithmetic up to the order of the sums: dropout keeps the one-network masks.
  const Vector p = train_params(sharded_config(1, 32), data, 2, &whole);
  CHECK((p1 - p).cwiseAbs().maxCoeff() < 1e-4f * std::max(1.0f, p.cwiseAbs().maxCoeff()));
  CHECK(m1.back().train_loss == doctest::Approx(whole.back().train_loss).epsilon(1e-4));
}

TEST_CASE("trainer: a batch smaller than the shard count leaves empty shards that change nothing") {
  // 10 samples in batches of 8: the last batch has 2 rows over 8 shards, 6 of them empty.
  const Dataset data = two_clouds(10, 6);
  const Vector sharded = train_params(sharded_config(8, 8), data, 2, nullptr);
  const Vector whole = train_params(sharded_config(1, 8), data, 1, nullptr);
  CHECK(sharded.allFinite());
  CHECK((sharded - whole).cwiseAbs().maxCoeff() < 1e-4f * std::max(1.0f, whole.cwiseAbs().maxCoeff()));
}
