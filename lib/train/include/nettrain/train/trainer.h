// The training loop: epochs of shuffled mini-batches, each step forward -> loss -> zero grads ->
// backward -> optimizer update, with evaluation, early stopping, a divergence guard and state that
// a checkpoint captures exactly (so a resumed run ends with the same bits as an unbroken one).
//
// The trainer owns no files: it reports through callbacks, and the run module writes them.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nettrain/core/collective.h"
#include "nettrain/data/augment.h"
#include "nettrain/data/data.h"
#include "nettrain/train/loss.h"
#include "nettrain/layers/network.h"
#include "nettrain/train/optimizer.h"
#include "nettrain/core/rng.h"
#include "nettrain/train/schedule.h"

namespace nettrain {

struct EarlyStopping {
  bool enabled = false;
  std::string monitor = "val_loss";  // val_loss, val_accuracy, train_loss, train_accuracy
  std::int64_t patience = 3;
  double min_delta = 0.0;
};

// A slice of the network's params() (trainable) or buffers() that training must leave as it is
// (a frozen layer's tensors).
struct FrozenSlice {
  bool trainable = true;
  Index offset = 0, size = 0;
};

struct TrainOptions {
  double base_lr = 0.01;  // the optimizer's configured rate; the schedule scales it
  std::int64_t epochs = 10;
  std::int64_t batch_size = 32;
  bool shuffle = true;
  std::int64_t log_every_steps = 10;
  std::int64_t checkpoint_every = 1;  // epochs; 0 = only at the end and on interruption
  std::int64_t eval_batch_size = 1000;
  EarlyStopping early_stopping;
  std::uint64_t seed = 0;
  bool restore_best_weights = false;  // read by the run: the final model is the best epoch's
  std::vector<FrozenSlice> frozen;    // left unchanged by every step
  // Shifts and flips of training batches (data.augment), on the network's [C, H, W] or [H, W]
  // input; the run checks the shape.
  AugmentSpec augment;
  // Data-parallel training: each process computes its slice of every batch (batch_slice) and the
  // gradients, batchnorm statistics, loss and accuracy sums are summed across processes; every
  // process applies the same update. nullptr: one process.
  Collective* collective = nullptr;
  // > 1: every sum over a batch is made of this many shards' partial sums added in a fixed tree
  // (Context::shards), so 1, 2, 4 ... processes (powers of two dividing it) give the same bits.
  std::int64_t batch_shards = 1;
};

// Loss and accuracy of a pass over a source (accuracy is NaN for regression).
struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  Index samples = 0;
};

struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based, as printed and written
  double train_loss = 0, train_accuracy = 0;
  std::optional<double> val_loss, val_accuracy;
  double lr = 0;
  double seconds = 0;  // wall time of the training steps, evaluation excluded
  double samples_per_second = 0;
};

// Everything besides weights and optimizer vectors that a checkpoint must hold.
struct TrainerState {
  std::int64_t epoch = 0;    // 0-based epoch in progress (== epochs when finished)
  std::int64_t step = 0;     // global step count
  SamplerState sampler;      // data order: the permutation stream and the position in it
  Rng::State network_rng{};  // dropout stream
  // Running sums of the epoch in progress, so a mid-epoch resume reports the same metrics.
  double epoch_loss_sum = 0, epoch_correct = 0, epoch_seconds = 0;
  std::int64_t epoch_samples = 0;
  // Early stopping and best-model tracking.
  double best = 0;
  bool has_best = false;
  std::int64_t best_epoch = 0, bad_epochs = 0;
  bool stopped_early = false;
  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j);  // throws ModelFileError
};

struct TrainCallbacks {
  // Every step (for progress bars): epoch (1-based), batch index and count in the epoch, the
  // running means of the epoch's loss and accuracy so far, samples/s so far in the epoch.
  std::function<void(std::int64_t epoch, std::int64_t batch, std::int64_t batches, double loss, double accuracy,
                     double samples_per_second)>
      on_step;
  // Every log_every_steps steps: the fine loss curve.
  std::function<void(std::int64_t step, std::int64_t epoch, double loss)> on_log_step;
  // After each epoch's evaluation; `improved` when the monitored metric is the best so far.
  std::function<void(const EpochMetrics&, bool improved)> on_epoch_end;
  // When a checkpoint should be written (every checkpoint_every epochs, at the end, on stop).
  std::function<void(const TrainerState&)> on_checkpoint;
  // Polled before every step; true stops training (Ctrl-C): a checkpoint is taken and
  // train() throws TrainingError.
  std::function<bool()> should_stop;
};

class Trainer {
 public:
  Trainer(Network& net, Loss& loss, Optimizer& opt, Schedule& schedule, TrainOptions options);

  // Starts fresh (state from the seed) or from a checkpoint's state.
  void restore(const TrainerState& state);
  const TrainerState& state() const { return state_; }

  // Runs until options.epochs or early stopping. Throws TrainingError on divergence (naming
  // epoch, step and the first layer with non-finite values) or when should_stop() said so.
  // `pp` is applied to every batch (fitted on the training split).
  void train(const Dataset& train, const Dataset* validation, const Preprocess& pp, const TrainCallbacks& cb);

  std::int64_t steps_per_epoch(Index samples) const;

 private:
  // One step on this process's rows of the batch in indices_; `loss` is the global batch's sum
  // of losses, `correct` its count of correct predictions.
  void step_batch(Task task, double lr, Index global_rows, double& loss_sum, double& correct);
  Collective& comm() const { return options_.collective ? *options_.collective : single_process(); }
  // Whether any process was asked to stop (Ctrl-C): all agree, so all stop at the same step.
  bool stop_requested(const TrainCallbacks& cb) const;
  // The steps of the epoch in progress, until the sampler's order ends; returns the last rate.
  double run_epoch_steps(const Dataset& train, const Preprocess& pp, BatchSampler& sampler, const TrainCallbacks& cb);
  EpochMetrics epoch_metrics(Task task, double lr) const;
  // Updates the best value and the count of epochs without improvement; true when improved.
  bool track_best(const EpochMetrics& m);
  [[noreturn]] void diverged(const std::string& what) const;

  Network& net_;
  Loss& loss_;
  Optimizer& opt_;
  Schedule& schedule_;
  TrainOptions options_;
  TrainerState state_;
  Batch batch_;
  Matrix dz_;
  std::vector<Index> indices_;  // the global batch's samples
  std::vector<Index> shards_;   // this process's shard boundaries, rows of its slice
  std::vector<double> shard_losses_;
  Matrix shard_z_, shard_values_;
  // The batch's loss sum from per-shard sums added in the shard tree (batch_shards > 1).
  double shard_loss_sum(Task task, const Matrix& z);
  // This process's rows of a batch of `rows` rows, and its shard boundaries (batch_shards).
  BatchSlice slice_batch(Index rows);
  std::vector<double> step_sums_;
  // Sample shards on threads (batch_shards > 1 and a replicable network): shard j of this
  // process runs its whole forward and backward in replicas_[j] with its own loss, batch and
  // dL/dz; the replicas' gradients are then added in the shard tree.
  bool use_replicas_ = false;
  std::vector<Network> replicas_;
  struct ShardWork {
    std::unique_ptr<Loss> loss;
    Batch batch;
    Matrix dz;
    double correct = 0;
    std::exception_ptr error;
  };
  std::vector<ShardWork> shard_work_;
  void step_replicas(const Dataset& train, const Preprocess& pp, std::span<const Index> rows, Index first, double lr,
                     Index global_rows, double& loss_sum, double& correct);
  void run_shard(std::size_t j, const Dataset& train, const Preprocess& pp, std::span<const Index> rows, Index first,
                 Index global_rows, const Rng::State& rng_at_step);
  // After the gradients are in net_.grads(): the sum across processes, then one pass over the
  // parameters that checks the gradient, updates, checks the result and, with clear_grads,
  // zeroes the gradient for the next backward. With `gather` (one process only), the pass takes
  // each block's gradient from gather(begin, end) instead (the replicas' sum, made for the block
  // there; it returns the array that holds it), so the sum and the update read the block once,
  // in one pool job, and net_.grads() is not written (but for a non-finite block, copied there
  // for the divergence message).
  void apply_gradients(double lr, bool clear_grads, const std::function<const float*(Index, Index)>& gather = {});
  // Updates the parameters [begin, end) of the pass (the blocks that start there).
  using ParamRange = std::function<void(Index begin, Index end)>;
  // apply_gradients's pass after the sum: drive(update) must call update on ranges that together
  // cover the parameters once, each when its gradients are final; then the checks.
  void update_pass(double lr, bool clear_grads, const std::function<const float*(Index, Index)>& gather,
                   const std::function<void(const ParamRange&)>& drive);
  // Elements [begin, end) of the replicas' gradients added in the shard tree, into replicas_[0].
  const float* sum_replica_grads(Index begin, Index end);
  bool grads_clear_ = false;          // net_.grads() is all zeros (update_pass cleared it)
  std::vector<float> frozen_values_;  // the frozen slices' values, in options_.frozen order
  std::optional<Augmenter> augmenter_;
  void snapshot_frozen();
  void restore_frozen();
};

// Mean loss and accuracy over `source` in eval mode, in batches of `batch_size`. When
// `predictions` is given it receives the arg-max class of every sample (classification).
EvalResult evaluate(Network& net, Loss& loss, const Dataset& data, const Preprocess& pp, Index batch_size,
                    std::vector<std::int32_t>* predictions = nullptr, Matrix* outputs = nullptr);
// The same split across the processes of `comm`: each evaluates a contiguous run of the batches
// and the batches' sums are added in batch order (the one-process result, bit for bit).
EvalResult evaluate_split(Network& net, Loss& loss, const Dataset& data, const Preprocess& pp, Index batch_size,
                          Collective& comm);

// Number of rows of z (batch, classes) whose arg-max equals the label; ties take the lowest index.
Index count_correct(const Matrix& z, std::span<const std::int32_t> labels);
// The arg-max of each row.
void argmax_rows(const Matrix& z, std::vector<std::int32_t>& out);

}  // namespace nettrain
