// The epoch loop, evaluation, early stopping and the divergence guard; see trainer.h.
#include "nettrain/train/trainer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>

#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "train_common.h"

namespace nettrain {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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
          {"sampler", sampler.to_json()},
          {"network_rng", rng_state_to_json(network_rng)},
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
    s.sampler = SamplerState::from_json(j.at("sampler"));
    s.network_rng = rng_state_from_json(j.at("network_rng"), "checkpoint");
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
  if (s.epoch < 0 || s.step < 0 || s.epoch_samples < 0)
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

namespace {

// Loss and correct-count sums over samples [first, first + count) of `data`, in batches.
struct EvalSums {
  double loss_sum = 0;
  double correct = 0;
};

EvalSums evaluate_range(Network& net, Loss& loss, const Dataset& data, const Preprocess& pp, Index batch_size,
                        Index first, Index count, std::vector<std::int32_t>* predictions, Matrix* outputs) {
  EvalSums sums;
  Batch batch;
  Matrix z;
  std::vector<std::int32_t> batch_pred;
  std::vector<Index> idx;
  const bool labeled = data.task == Task::classification && data.has_labels();
  const bool has_loss = labeled || (data.task == Task::regression && data.num_targets() > 0);
  net.set_batch_slice(nullptr, 0, 0);  // evaluation reduces nothing inside the layers
  for (Index start = first; start < first + count; start += batch_size) {
    const Index b = std::min(batch_size, first + count - start);
    idx.resize(static_cast<std::size_t>(b));
    for (Index i = 0; i < b; ++i) idx[static_cast<std::size_t>(i)] = start + i;
    data.fill_batch(idx, pp, batch);
    net.infer(batch.x, z);
    if (has_loss) {
      sums.loss_sum += loss.forward(z, batch.targets(data.task)) * static_cast<double>(b);
      if (labeled) sums.correct += static_cast<double>(count_correct(z, batch.labels));
    }
    if (predictions) {
      argmax_rows(z, batch_pred);
      predictions->insert(predictions->end(), batch_pred.begin(), batch_pred.end());
    }
    if (outputs) outputs->middleRows(start, b) = z;
  }
  return sums;
}

EvalResult eval_result(const Dataset& data, const EvalSums& sums) {
  EvalResult r;
  const Index n = data.num_samples;
  const bool labeled = data.task == Task::classification && data.has_labels();
  const bool has_loss = labeled || (data.task == Task::regression && data.num_targets() > 0);
  r.samples = n;
  r.loss = n > 0 && has_loss ? sums.loss_sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  r.accuracy = labeled && n > 0 ? sums.correct / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  return r;
}

}  // namespace

EvalResult evaluate(Network& net, Loss& loss, const Dataset& data, const Preprocess& pp, Index batch_size,
                    std::vector<std::int32_t>* predictions, Matrix* outputs) {
  if (predictions) predictions->clear();
  if (outputs) outputs->resize(data.num_samples, net.output_shape().size());
  return eval_result(data, evaluate_range(net, loss, data, pp, batch_size, 0, data.num_samples, predictions, outputs));
}

// Each process evaluates a contiguous run of the batches; every batch's loss sum lands in its
// slot (zeros on the other processes, so the sum across them is exact) and the slots are added
// in batch order: the one-process sum, bit for bit, on any process count.
EvalResult evaluate_split(Network& net, Loss& loss, const Dataset& data, const Preprocess& pp, Index batch_size,
                          Collective& comm) {
  const Index batches = (data.num_samples + batch_size - 1) / batch_size;
  const BatchSlice mine = batch_slice(batches, comm.rank(), comm.size());
  std::vector<double> v(static_cast<std::size_t>(batches + 1), 0.0);  // per-batch loss sums, then the correct count
  for (Index i = mine.first; i < mine.first + mine.count; ++i) {
    const Index start = i * batch_size, b = std::min(batch_size, data.num_samples - start);
    const EvalSums s = evaluate_range(net, loss, data, pp, batch_size, start, b, nullptr, nullptr);
    v[static_cast<std::size_t>(i)] = s.loss_sum;
    v.back() += s.correct;
  }
  comm.sum(v);
  EvalSums all;
  for (Index i = 0; i < batches; ++i) all.loss_sum += v[static_cast<std::size_t>(i)];
  all.correct = v.back();
  return eval_result(data, all);
}

Trainer::Trainer(Network& net, Loss& loss, Optimizer& opt, Schedule& schedule, TrainOptions options)
    : net_(net), loss_(loss), opt_(opt), schedule_(schedule), options_(std::move(options)) {
  opt_.reset(net_.param_count());
  state_.network_rng = net_.rng().state();
  if (options_.augment.enabled()) {
    const Shape in = net_.input_shape();
    const std::size_t d = in.dims.size();
    if (d != 2 && d != 3) throw std::logic_error("augment needs an image input");
    augmenter_.emplace(options_.augment, d == 3 ? in.dims[0] : 1, in.dims[d - 2], in.dims[d - 1],
                       options_.seed ^ 0x6175676D656E74ULL);  // "augment"
  }
  use_replicas_ = options_.batch_shards > 1 && net_.can_replicate() && loss_.clone() != nullptr;
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

void Trainer::step_batch(Task task, double lr, Index global_rows, double& loss_sum, double& correct) {
  const Matrix& z = net_.forward(batch_.x, Mode::train);  // (rows, out): this process's rows
  const Index rows = z.rows();
  const bool sharded = options_.batch_shards > 1;
  const double shard_sum = sharded ? shard_loss_sum(task, z) : 0.0;
  const double loss = loss_.forward(z, batch_.targets(task));  // last: backward needs its state
  std::array<double, 2> sums{sharded ? 0.0 : loss * static_cast<double>(rows),
                             task == Task::classification ? static_cast<double>(count_correct(z, batch_.labels)) : 0.0};
  comm().sum(sums);
  loss_sum = sharded ? shard_sum : sums[0];
  correct = sums[1];
  if (!std::isfinite(loss_sum)) {
    const std::string layer = net_.first_nonfinite_output();
    diverged("the loss is " + std::to_string(comm().size() == 1 ? loss : loss_sum / static_cast<double>(global_rows)) +
             (layer.empty() ? "" : "; first layer with non-finite output: " + layer));
  }
  loss_.set_mean_rows(global_rows);  // the gradient of the global batch's mean
  loss_.backward(dz_);
  if (!grads_clear_) net_.zero_grads();
  grads_clear_ = false;
  if (comm().size() > 1) {  // the sum across processes needs every gradient first
    net_.backward(dz_);
    apply_gradients(lr, true);
    return;
  }
  // One process: each layer's parameters are updated as soon as backward has made their
  // gradients final, while the gradients and the weights its products just used are still in
  // cache (the same blocks and arithmetic as a pass afterwards, so the same bits).
  update_pass(lr, true, {}, [&](const ParamRange& update) {
    Index done = net_.params().size();
    net_.backward(dz_, ParamGrads::add, [&](Index first) {
      update(first, done);
      done = first;
    });
    update(0, done);
  });
}

void Trainer::apply_gradients(double lr, bool clear_grads, const std::function<const float*(Index, Index)>& gather) {
  if (gather && comm().size() > 1) throw std::logic_error("apply_gradients: gather with more than one process");
  comm().sum(std::span<float>(net_.grads().data(), static_cast<std::size_t>(net_.grads().size())));
  update_pass(lr, clear_grads, gather, [&](const ParamRange& update) { update(0, net_.params().size()); });
}

void Trainer::update_pass(double lr, bool clear_grads, const std::function<const float*(Index, Index)>& gather,
                          const std::function<void(const ParamRange&)>& drive) {
  // One pass in blocks small enough to stay in the core's first-level cache: the guard checks a
  // block's gradient (a NaN or Inf makes its sum non-finite; an overflowing sum of finite values
  // is checked element by element), the optimizer updates the block only when it is finite, the
  // new parameters are checked the same way, and the gradient is zeroed. A block with a
  // non-finite gradient is left as it was, and the run stops below.
  constexpr Index kBlock = 2048;
  const Index n = net_.params().size();
  float* p = net_.params().data();
  float* g = net_.grads().data();
  // A frozen slice is restored after the update, so with frozen slices the parameters are
  // checked after that (a separate pass), not in this one.
  const bool check_params = options_.frozen.empty();
  auto finite = [](const float* x, Index count) {
    const ConstVectorMap v(x, count);
    return std::isfinite(v.sum()) || v.allFinite();
  };
  opt_.begin_step(n, static_cast<float>(lr));
  std::atomic<bool> grads_finite{true}, params_finite{true};
  // The blocks are fixed by n alone (which blocks a non-finite gradient skips must not depend on
  // the thread count). update(begin, end) runs the blocks that start in [begin, end); each thread
  // takes an equal run of them.
  auto run_blocks = [&](Index first_block, Index last_block) {
    for (Index b = first_block * kBlock; b < std::min(n, last_block * kBlock); b += kBlock) {
      const Index e = std::min(n, b + kBlock);
      // The next block's parameters, asked for in exclusive state: the other core read them in
      // forward, so each store would first wait for its copy to be invalidated.
      for (Index q = e; q < std::min(n, e + kBlock); q += 16) __builtin_prefetch(p + q, 1, 3);
      const float* grad = gather ? gather(b, e) : g;
      if (!finite(grad + b, e - b)) {
        if (grad != g) std::copy(grad + b, grad + e, g + b);  // where first_nonfinite_tensor looks
        grads_finite.store(false, std::memory_order_relaxed);
        continue;
      }
      opt_.update(p, grad, b, e);
      if (check_params && !finite(p + b, e - b)) params_finite.store(false, std::memory_order_relaxed);
      if (clear_grads) std::fill(g + b, g + e, 0.0f);
    }
  };
  drive([&](Index begin, Index end) {
    const Index first_block = (begin + kBlock - 1) / kBlock, last_block = (end + kBlock - 1) / kBlock;
    parallel_split(last_block - first_block, train_detail::kSplitGrain / kBlock,
                   [&](Index f, Index l) { run_blocks(first_block + f, first_block + l); });
  });
  if (!grads_finite.load()) {
    const std::string tensor = net_.first_nonfinite_tensor(true);
    diverged("non-finite gradient" + (tensor.empty() ? std::string() : " in " + tensor));
  }
  grads_clear_ = clear_grads;
  restore_frozen();
  if (!check_params) params_finite.store(net_.params().allFinite());
  if (!params_finite.load()) diverged("a parameter became non-finite after the update");
}

// Every shard of this process on its own thread: fill, augment, forward, loss and backward in its
// replica, with the network's stream as it stood at the step's start (dropout draws for the
// whole batch and keeps its rows, so the masks are the one-network masks); then the shards' loss
// sums and gradients added in the shard tree, as the layers do with shards in one network.
void Trainer::step_replicas(const Dataset& train, const Preprocess& pp, std::span<const Index> rows, Index first,
                            double lr, Index global_rows, double& loss_sum, double& correct) {
  const std::size_t k = shards_.size() - 1;
  while (replicas_.size() < k) replicas_.push_back(net_.replicate());
  if (shard_work_.size() < k) shard_work_.resize(k);
  for (ShardWork& w : shard_work_)
    if (!w.loss) w.loss = loss_.clone();
  const Index S = options_.batch_shards;
  shard_losses_.assign(static_cast<std::size_t>(S), 0.0);
  const Rng::State rng_at_step = net_.rng().state();
  parallel_for_chunks(static_cast<Index>(k), [&](Index j) {
    run_shard(static_cast<std::size_t>(j), train, pp, rows, first, global_rows, rng_at_step);
  });
  for (std::size_t j = 0; j < k; ++j)
    if (shard_work_[j].error) std::rethrow_exception(shard_work_[j].error);
  net_.rng().set_state(replicas_[0].rng().state());  // every replica drew for the whole batch

  std::array<double, 1> right{0.0};
  for (std::size_t j = 0; j < k; ++j) right[0] += shard_work_[j].correct;
  if (comm().size() > 1) {
    comm().sum(shard_losses_);
    comm().sum(right);
  }
  tree_sum_rows(shard_losses_.data(), S, 1);
  loss_sum = shard_losses_[0];
  correct = right[0];
  if (!std::isfinite(loss_sum)) {
    std::string layer;
    for (std::size_t j = 0; j < k && layer.empty(); ++j) layer = replicas_[j].first_nonfinite_output();
    diverged("the loss is " + std::to_string(loss_sum / static_cast<double>(global_rows)) +
             (layer.empty() ? "" : "; first layer with non-finite output: " + layer));
  }
  // The replicas' gradients added in the shard tree, element by element: in one process, block by
  // block inside the update's pass; across processes, into net_.grads() before their sum.
  if (comm().size() == 1) {
    apply_gradients(lr, false, [this](Index b, Index e) { return sum_replica_grads(b, e); });
    return;
  }
  parallel_split(net_.grads().size(), train_detail::kSplitGrain, [this](Index b, Index e) {
    const float* sum = sum_replica_grads(b, e);
    std::copy(sum + b, sum + e, net_.grads().data() + b);
  });
  apply_gradients(lr, false);
}

// The replicas' own gradients are overwritten on the way; returns replicas_[0]'s gradient array,
// which holds the sum for [begin, end).
const float* Trainer::sum_replica_grads(Index begin, Index end) {
  const std::size_t k = shards_.size() - 1;
  const Index n = end - begin;
  for (std::size_t step = 1; step < k; step *= 2)
    for (std::size_t i = 0; i + step < k; i += 2 * step)
      replicas_[i].grads().segment(begin, n) += replicas_[i + step].grads().segment(begin, n);
  return replicas_[0].grads().data();
}

// Shard j's part of step_replicas, on whichever thread runs it; errors are kept for the caller
// (nothing may throw out of a pool job).
void Trainer::run_shard(std::size_t j, const Dataset& train, const Preprocess& pp, std::span<const Index> rows,
                        Index first, Index global_rows, const Rng::State& rng_at_step) {
  ShardWork& w = shard_work_[j];
  Network& r = replicas_[j];
  w.error = nullptr;
  w.correct = 0;
  try {
    const Index a = shards_[j], n = shards_[j + 1] - a;
    train.fill_batch(rows.subspan(static_cast<std::size_t>(a), static_cast<std::size_t>(n)), pp, w.batch);
    if (augmenter_) augmenter_->apply(w.batch.x, static_cast<std::uint64_t>(state_.step), first + a);
    r.rng().set_state(rng_at_step);
    r.set_batch_slice(nullptr, first + a, global_rows);
    const Matrix& z = r.forward(w.batch.x, Mode::train);
    if (n == 0) {  // an empty shard (a batch smaller than the shard count) only draws
      r.zero_grads();
      return;
    }
    const Targets t = w.batch.targets(train.task);
    const Index first_shard = options_.batch_shards * comm().rank() / comm().size();
    shard_losses_[static_cast<std::size_t>(first_shard) + j] = w.loss->forward(z, t) * static_cast<double>(n);
    if (train.task == Task::classification) w.correct = static_cast<double>(count_correct(z, w.batch.labels));
    w.loss->set_mean_rows(global_rows);
    w.loss->backward(w.dz);
    // Assigned, not added: no zeroing pass over the replica's gradients (which its LIBXSMM
    // products then write without reading). Not in the one-network step: there OpenBLAS's
    // products zero C themselves before a beta-0 product, a pass out of cache, where the
    // update's pass zeroes each block in cache (W3 epochs 2.10-2.35 s adding, 2.13-2.30
    // assigning, alternating runs).
    r.backward(w.dz, ParamGrads::assign);
  } catch (...) {
    w.error = std::current_exception();
  }
}

// Shard s of S covers rows [b·s/S, b·(s+1)/S) of a batch of b rows; process r of P owns shards
// [S·r/P, S·(r+1)/P), whose rows are exactly its batch_slice when P divides S.
BatchSlice Trainer::slice_batch(Index rows) {
  const int P = comm().size(), r = comm().rank();
  const BatchSlice mine = batch_slice(rows, r, P);
  const Index S = options_.batch_shards;
  if (S <= 1) {
    if (P > 1) net_.set_batch_slice(&comm(), mine.first, rows);
    return mine;
  }
  shards_.clear();
  for (Index s = S * r / P; s <= S * (r + 1) / P; ++s) shards_.push_back(rows * s / S - mine.first);
  net_.set_batch_slice(P > 1 ? &comm() : nullptr, mine.first, rows, shards_);
  return mine;
}

// Each shard's loss sum lands in its slot on the process that owns the shard (zeros elsewhere,
// so the sum across processes is exact), then the shards are added in the shard tree.
double Trainer::shard_loss_sum(Task task, const Matrix& z) {
  const Index S = options_.batch_shards;
  const Index first = S * comm().rank() / comm().size();
  shard_losses_.assign(static_cast<std::size_t>(S), 0.0);
  const Targets t = batch_.targets(task);
  for (std::size_t j = 0; j + 1 < shards_.size(); ++j) {
    const Index a = shards_[j], n = shards_[j + 1] - a;
    if (n == 0) continue;
    shard_z_ = z.middleRows(a, n);
    Targets ts;
    if (t.values != nullptr) {
      shard_values_ = t.values->middleRows(a, n);
      ts.values = &shard_values_;
    } else {
      ts.labels = t.labels.subspan(static_cast<std::size_t>(a), static_cast<std::size_t>(n));
    }
    shard_losses_[static_cast<std::size_t>(first) + j] = loss_.forward(shard_z_, ts) * static_cast<double>(n);
  }
  if (comm().size() > 1) comm().sum(shard_losses_);
  tree_sum_rows(shard_losses_.data(), S, 1);
  return shard_losses_[0];
}

bool Trainer::stop_requested(const TrainCallbacks& cb) const {
  std::array<double, 1> stop{cb.should_stop && cb.should_stop() ? 1.0 : 0.0};
  if (comm().size() > 1) comm().sum(stop);
  return stop[0] > 0.0;
}

// Frozen slices are put back after every update (and after the forward pass updated batchnorm
// statistics): exact whatever the optimizer does (momentum, weight decay).
void Trainer::snapshot_frozen() {
  frozen_values_.clear();
  for (const FrozenSlice& f : options_.frozen) {
    const float* src = (f.trainable ? net_.params() : net_.buffers()).data() + f.offset;
    frozen_values_.insert(frozen_values_.end(), src, src + f.size);
  }
}

void Trainer::restore_frozen() {
  std::size_t at = 0;
  for (const FrozenSlice& f : options_.frozen) {
    float* dst = (f.trainable ? net_.params() : net_.buffers()).data() + f.offset;
    std::copy_n(frozen_values_.data() + at, f.size, dst);
    at += static_cast<std::size_t>(f.size);
  }
}

void Trainer::train(const Dataset& train, const Dataset* validation, const Preprocess& pp, const TrainCallbacks& cb) {
  const Index n = train.num_samples;
  if (n == 0) throw DataError(train.source + ": the training set is empty");
  ScheduleInfo info;
  info.steps_per_epoch = steps_per_epoch(n);
  info.total_epochs = options_.epochs;
  info.base_lr = options_.base_lr;
  schedule_.configure(info);
  BatchSampler sampler(n, options_.batch_size, options_.shuffle, options_.seed);
  if (state_.step > 0 || state_.epoch > 0) sampler.restore(state_.sampler);
  state_.sampler = sampler.state();
  snapshot_frozen();

  while (state_.epoch < options_.epochs && !state_.stopped_early) {
    const double lr = run_epoch_steps(train, pp, sampler, cb);
    EpochMetrics m = epoch_metrics(train.task, lr);
    if (validation != nullptr && validation->num_samples > 0) {
      const EvalResult v = evaluate_split(net_, loss_, *validation, pp, options_.eval_batch_size, comm());
      m.val_loss = v.loss;
      if (train.task == Task::classification) m.val_accuracy = v.accuracy;
    }
    const bool improved = track_best(m);
    schedule_.on_epoch_end(state_.epoch, m.val_loss.value_or(m.train_loss));

    // Advance the state to the start of the next epoch before anyone saves it.
    state_.sampler = sampler.state();
    ++state_.epoch;
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

double Trainer::run_epoch_steps(const Dataset& train, const Preprocess& pp, BatchSampler& sampler,
                                const TrainCallbacks& cb) {
  const std::int64_t batches = steps_per_epoch(train.num_samples);
  const auto batch_size = static_cast<std::uint64_t>(options_.batch_size);
  double lr = schedule_.lr(state_.epoch, state_.step);
  while (true) {
    if (stop_requested(cb)) {
      state_.sampler = sampler.state();
      state_.network_rng = net_.rng().state();
      if (cb.on_checkpoint) cb.on_checkpoint(state_);
      throw TrainingError("interrupted at epoch " + std::to_string(state_.epoch + 1) + ", step " +
                          std::to_string(state_.step) + "; a checkpoint was saved");
    }
    const auto t0 = Clock::now();
    if (!sampler.next(indices_)) break;  // the sampler has moved on to the next epoch's order
    const auto b = static_cast<Index>(indices_.size());
    const BatchSlice mine = slice_batch(b);
    const auto my_rows = std::span<const Index>(indices_).subspan(static_cast<std::size_t>(mine.first),
                                                                  static_cast<std::size_t>(mine.count));
    lr = schedule_.lr(state_.epoch, state_.step);
    double loss_sum = 0, correct = 0;
    if (use_replicas_) {
      step_replicas(train, pp, my_rows, mine.first, lr, b, loss_sum, correct);
    } else {
      train.fill_batch(my_rows, pp, batch_);
      if (augmenter_) augmenter_->apply(batch_.x, static_cast<std::uint64_t>(state_.step), mine.first);
      step_batch(train.task, lr, b, loss_sum, correct);
    }
    const double loss = loss_sum / static_cast<double>(b);
    ++state_.step;
    state_.epoch_loss_sum += loss_sum;
    state_.epoch_correct += correct;
    state_.epoch_samples += b;
    state_.epoch_seconds += seconds_since(t0);
    if (cb.on_log_step && options_.log_every_steps > 0 && state_.step % options_.log_every_steps == 0)
      cb.on_log_step(state_.step, state_.epoch + 1, loss);
    if (cb.on_step) {
      const auto seen = static_cast<double>(state_.epoch_samples);
      const auto batch = static_cast<std::int64_t>((sampler.position() + batch_size - 1) / batch_size);
      cb.on_step(state_.epoch + 1, batch, batches, state_.epoch_loss_sum / seen, state_.epoch_correct / seen,
                 seen / std::max(state_.epoch_seconds, 1e-9));
    }
  }
  // The rate of the epoch's last step, also when a resume landed after that step.
  if (state_.epoch_samples > 0) lr = schedule_.lr(state_.epoch, state_.step - 1);
  return lr;
}

EpochMetrics Trainer::epoch_metrics(Task task, double lr) const {
  const auto seen = static_cast<double>(state_.epoch_samples);
  EpochMetrics m;
  m.epoch = state_.epoch + 1;
  m.train_loss = state_.epoch_loss_sum / seen;
  m.train_accuracy =
      task == Task::classification ? state_.epoch_correct / seen : std::numeric_limits<double>::quiet_NaN();
  m.lr = lr;
  m.seconds = state_.epoch_seconds;
  m.samples_per_second = seen / std::max(state_.epoch_seconds, 1e-9);
  return m;
}

bool Trainer::track_best(const EpochMetrics& m) {
  // Best model and early stopping on the monitored metric (min_delta must be beaten).
  const double value = monitored(options_.early_stopping, m);
  if (!std::isfinite(value)) return false;
  const bool improved = !state_.has_best || value < state_.best - options_.early_stopping.min_delta;
  if (improved) {
    state_.best = value;
    state_.has_best = true;
    state_.best_epoch = m.epoch;
    state_.bad_epochs = 0;
  } else {
    ++state_.bad_epochs;
  }
  return improved;
}

}  // namespace nettrain
