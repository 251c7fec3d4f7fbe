// The epoch loop, evaluation, early stopping and the divergence guard; see trainer.h.
#include "nettrain/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "nettrain/errors.h"

namespace nettrain {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

nlohmann::json rng_json(const Rng::State& s) { return nlohmann::json::array({s[0], s[1], s[2], s[3]}); }

Rng::State rng_from_json(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 4) throw ModelFileError("checkpoint: an RNG state must be 4 unsigned integers");
  Rng::State s{};
  for (std::size_t i = 0; i < 4; ++i) {
    if (!j[i].is_number_unsigned()) throw ModelFileError("checkpoint: an RNG state must be 4 unsigned integers");
    s[i] = j[i].get<std::uint64_t>();
  }
  return s;
}

// Lower is better for losses, higher for accuracies; returns the value to minimise.
double monitored(const EarlyStopping& es, const EpochMetrics& m) {
  if (es.monitor == "train_loss") return m.train_loss;
  if (es.monitor == "train_accuracy") return -m.train_accuracy;
  if (es.monitor == "val_accuracy") return -m.val_accuracy.value_or(std::numeric_limits<double>::quiet_NaN());
  return m.val_loss.value_or(std::numeric_limits<double>::quiet_NaN());
}

}  // namespace

nlohmann::json TrainerState::to_json() const {
  return {{"epoch", epoch},
          {"step", step},
          {"batch_in_epoch", batch_in_epoch},
          {"order_rng", rng_json(order_rng)},
          {"network_rng", rng_json(network_rng)},
          {"epoch_loss_sum", epoch_loss_sum},
          {"epoch_correct", epoch_correct},
          {"epoch_seconds", epoch_seconds},
          {"epoch_samples", epoch_samples},
          {"best", best},
          {"has_best", has_best},
          {"best_epoch", best_epoch},
          {"bad_epochs", bad_epochs},
          {"stopped_early", stopped_early}};
}

TrainerState TrainerState::from_json(const nlohmann::json& j) {
  TrainerState s;
  try {
    s.epoch = j.at("epoch").get<std::int64_t>();
    s.step = j.at("step").get<std::int64_t>();
    s.batch_in_epoch = j.at("batch_in_epoch").get<std::int64_t>();
    s.order_rng = rng_from_json(j.at("order_rng"));
    s.network_rng = rng_from_json(j.at("network_rng"));
    s.epoch_loss_sum = j.at("epoch_loss_sum").get<double>();
    s.epoch_correct = j.at("epoch_correct").get<double>();
    s.epoch_seconds = j.at("epoch_seconds").get<double>();
    s.epoch_samples = j.at("epoch_samples").get<std::int64_t>();
    s.best = j.at("best").get<double>();
    s.has_best = j.at("has_best").get<bool>();
    s.best_epoch = j.at("best_epoch").get<std::int64_t>();
    s.bad_epochs = j.at("bad_epochs").get<std::int64_t>();
    s.stopped_early = j.at("stopped_early").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(std::string("checkpoint: trainer state is incomplete: ") + e.what());
  }
  if (s.epoch < 0 || s.step < 0 || s.batch_in_epoch < 0 || s.epoch_samples < 0)
    throw ModelFileError("checkpoint: trainer state holds a negative count");
  return s;
}

void argmax_rows(const Matrix& z, std::vector<std::int32_t>& out) {
  out.resize(static_cast<std::size_t>(z.rows()));
  for (Index i = 0; i < z.rows(); ++i) {
    if (z.cols() == 1) {  // one logit: binary classification, class 1 when z > 0
      out[static_cast<std::size_t>(i)] = z(i, 0) > 0.0f ? 1 : 0;
      continue;
    }
    Index best = 0;
    for (Index c = 1; c < z.cols(); ++c)
      if (z(i, c) > z(i, best)) best = c;
    out[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(best);
  }
}

Index count_correct(const Matrix& z, std::span<const std::int32_t> labels) {
  Index correct = 0;
  for (Index i = 0; i < z.rows(); ++i) {
    Index best = 0;
    if (z.cols() == 1) {
      best = z(i, 0) > 0.0f ? 1 : 0;
    } else {
      for (Index c = 1; c < z.cols(); ++c)
        if (z(i, c) > z(i, best)) best = c;
    }
    correct += best == labels[static_cast<std::size_t>(i)] ? 1 : 0;
  }
  return correct;
}

EvalResult evaluate(Network& net, Loss& loss, const BatchSource& source, Index batch_size,
                    std::vector<std::int32_t>* predictions, Matrix* outputs) {
  EvalResult r;
  const Index n = source.size();
  Matrix x, values;
  std::vector<std::int32_t> labels, batch_pred;
  std::vector<Index> idx;
  double loss_sum = 0;
  Index correct = 0;
  if (predictions) predictions->clear();
  if (outputs) outputs->resize(n, net.output_shape().size());
  for (Index start = 0; start < n; start += batch_size) {
    const Index b = std::min(batch_size, n - start);
    idx.resize(static_cast<std::size_t>(b));
    for (Index i = 0; i < b; ++i) idx[static_cast<std::size_t>(i)] = start + i;
    source.fill(idx, x, labels, values);
    const Matrix& z = net.forward(x, Mode::eval);
    const Targets t{labels, loss.uses_labels() ? nullptr : &values};
    loss_sum += loss.forward(z, t) * static_cast<double>(b);
    if (loss.uses_labels()) correct += count_correct(z, labels);
    if (predictions) {
      argmax_rows(z, batch_pred);
      predictions->insert(predictions->end(), batch_pred.begin(), batch_pred.end());
    }
    if (outputs) outputs->middleRows(start, b) = z;
  }
  r.samples = n;
  r.loss = n > 0 ? loss_sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  r.accuracy = loss.uses_labels() && n > 0 ? static_cast<double>(correct) / static_cast<double>(n)
                                            : std::numeric_limits<double>::quiet_NaN();
  return r;
}

Trainer::Trainer(Network& net, Loss& loss, Optimizer& opt, Schedule& schedule, TrainOptions options)
    : net_(net), loss_(loss), opt_(opt), schedule_(schedule), options_(std::move(options)) {
  opt_.reset(net_.param_count());
  state_.order_rng = Rng(options_.seed).split(0x6f72646572).state();  // "order"
  state_.network_rng = net_.rng().state();
}

void Trainer::restore(const TrainerState& state) {
  state_ = state;
  net_.rng().set_state(state_.network_rng);
}

std::int64_t Trainer::steps_per_epoch(Index samples) const {
  return (samples + options_.batch_size - 1) / options_.batch_size;
}

void Trainer::diverged(const std::string& what) const {
  std::string msg = "training diverged at epoch " + std::to_string(state_.epoch + 1) + ", step " +
                    std::to_string(state_.step + 1) + ": " + what;
  const std::string layer = net_.first_nonfinite_tensor(false);
  if (!layer.empty()) msg += "; first non-finite parameter tensor: " + layer;
  throw TrainingError(msg);
}

void Trainer::step_batch(const Matrix& x, const std::vector<std::int32_t>& labels, const Matrix& values, double lr,
                         double& loss, Index& correct) {
  const Matrix& z = net_.forward(x, Mode::train);  // (batch, out)
  const Targets t{labels, loss_.uses_labels() ? nullptr : &values};
  loss = loss_.forward(z, t);
  if (!std::isfinite(loss)) {
    const std::string layer = net_.first_nonfinite_output();
    diverged("the loss is " + std::to_string(loss) +
             (layer.empty() ? "" : "; first layer with non-finite output: " + layer));
  }
  correct = loss_.uses_labels() ? count_correct(z, labels) : 0;
  loss_.backward(dz_);
  net_.zero_grads();
  net_.backward(dz_);
  const std::string bad_grad = net_.first_nonfinite_tensor(true);
  if (!bad_grad.empty()) diverged("non-finite gradient in " + bad_grad);
  opt_.step(VectorMap(net_.params().data(), net_.params().size()),
            ConstVectorMap(net_.grads().data(), net_.grads().size()), static_cast<float>(lr));
  if (!net_.params().allFinite()) diverged("a parameter became non-finite after the update");
}

void Trainer::train(const BatchSource& train, const BatchSource* validation, const TrainCallbacks& cb) {
  const Index n = train.size();
  if (n == 0) throw DataError("the training set is empty");
  const std::int64_t batches = steps_per_epoch(n);
  ScheduleInfo info;
  info.steps_per_epoch = batches;
  info.total_epochs = options_.epochs;
  info.base_lr = options_.base_lr;
  schedule_.configure(info);
  std::vector<Index> idx;

  while (state_.epoch < options_.epochs && !state_.stopped_early) {
    // The epoch's order is a pure function of the order stream at its start.
    Rng order_rng;
    order_rng.set_state(state_.order_rng);
    order_.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) order_[static_cast<std::size_t>(i)] = i;
    if (options_.shuffle)
      for (Index i = n - 1; i > 0; --i)
        std::swap(order_[static_cast<std::size_t>(i)],
                  order_[order_rng.below(static_cast<std::uint64_t>(i + 1))]);

    double lr = schedule_.lr(state_.epoch, state_.step);
    while (state_.batch_in_epoch < batches) {
      if (cb.should_stop && cb.should_stop()) {
        state_.network_rng = net_.rng().state();
        if (cb.on_checkpoint) cb.on_checkpoint(state_);
        throw TrainingError("interrupted at epoch " + std::to_string(state_.epoch + 1) + ", step " +
                            std::to_string(state_.step) + "; a checkpoint was saved");
      }
      const auto t0 = Clock::now();
      const Index start = state_.batch_in_epoch * options_.batch_size;
      const Index b = std::min<Index>(options_.batch_size, n - start);
      idx.assign(order_.begin() + start, order_.begin() + start + b);
      train.fill(idx, x_, labels_, values_);
      lr = schedule_.lr(state_.epoch, state_.step);
      double loss = 0;
      Index correct = 0;
      step_batch(x_, labels_, values_, lr, loss, correct);
      ++state_.step;
      ++state_.batch_in_epoch;
      state_.epoch_loss_sum += loss * static_cast<double>(b);
      state_.epoch_correct += static_cast<double>(correct);
      state_.epoch_samples += b;
      state_.epoch_seconds += seconds_since(t0);
      if (cb.on_log_step && options_.log_every_steps > 0 && state_.step % options_.log_every_steps == 0)
        cb.on_log_step(state_.step, state_.epoch + 1, loss);
      if (cb.on_step)
        cb.on_step(state_.epoch + 1, state_.batch_in_epoch, batches, loss,
                   state_.epoch_correct / static_cast<double>(state_.epoch_samples),
                   static_cast<double>(state_.epoch_samples) / std::max(state_.epoch_seconds, 1e-9));
    }

    EpochMetrics m;
    m.epoch = state_.epoch + 1;
    m.train_loss = state_.epoch_loss_sum / static_cast<double>(state_.epoch_samples);
    m.train_accuracy = loss_.uses_labels() ? state_.epoch_correct / static_cast<double>(state_.epoch_samples)
                                           : std::numeric_limits<double>::quiet_NaN();
    m.lr = lr;
    m.seconds = state_.epoch_seconds;
    m.samples_per_second = static_cast<double>(state_.epoch_samples) / std::max(state_.epoch_seconds, 1e-9);
    if (validation != nullptr && validation->size() > 0) {
      const EvalResult v = evaluate(net_, loss_, *validation, options_.eval_batch_size);
      m.val_loss = v.loss;
      if (loss_.uses_labels()) m.val_accuracy = v.accuracy;
    }

    // Best model and early stopping on the monitored metric (min_delta must be beaten).
    const double value = monitored(options_.early_stopping, m);
    bool improved = false;
    if (std::isfinite(value)) {
      improved = !state_.has_best || value < state_.best - options_.early_stopping.min_delta;
      if (improved) {
        state_.best = value;
        state_.has_best = true;
        state_.best_epoch = m.epoch;
        state_.bad_epochs = 0;
      } else {
        ++state_.bad_epochs;
      }
    }
    schedule_.on_epoch_end(state_.epoch, m.val_loss.value_or(m.train_loss));

    // Advance the state to the start of the next epoch before anyone saves it.
    state_.order_rng = order_rng.state();
    ++state_.epoch;
    state_.batch_in_epoch = 0;
    state_.epoch_loss_sum = state_.epoch_correct = state_.epoch_seconds = 0;
    state_.epoch_samples = 0;
    state_.network_rng = net_.rng().state();
    if (options_.early_stopping.enabled && state_.bad_epochs >= options_.early_stopping.patience)
      state_.stopped_early = true;

    if (cb.on_epoch_end) cb.on_epoch_end(m, improved);
    const bool last = state_.epoch >= options_.epochs || state_.stopped_early;
    const bool periodic = options_.checkpoint_every > 0 && state_.epoch % options_.checkpoint_every == 0;
    if (cb.on_checkpoint && (last || periodic)) cb.on_checkpoint(state_);
  }
}

}  // namespace nettrain
