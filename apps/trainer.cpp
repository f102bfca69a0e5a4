#include "apps/trainer.h"

#include "apps/graph_step.h"

#include <chrono>
#include <cmath>
#include <numeric>

#include "engine/context.h"
#include "engine/ops.h"
#include "engine/tensor_util.h"

namespace rotor {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
Tensor upload(Context& ctx, const std::vector<T>& values, const Shape& shape) {
  Tensor host = Tensor::host(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), host.data<T>());
  return to_device(ctx, host, ctx.device());
}

// Sums over an epoch kept on the device: read once at the end.
struct Tally {
  Tally(Context& ctx) : loss_sum(Tensor::empty(ctx, {1})), correct(Tensor::empty(ctx, {1}, DType::i64)) {
    reset(ctx);
  }
  Tally(Tensor loss_sum_, Tensor correct_) : loss_sum(std::move(loss_sum_)), correct(std::move(correct_)) {}
  void reset(Context& ctx) {
    fill(ctx, loss_sum, 0.0f);
    const Tensor zero = Tensor::host({1}, DType::i64);
    zero.data<int64_t>()[0] = 0;
    copy(ctx, zero, correct);
  }
  void add(Context& ctx, const Tensor& loss, const Tensor& logits, const Tensor& labels) {
    tally_step(ctx, {loss, logits}, labels, loss_sum, correct);
  }
  EvalResult result(Context& ctx, int64_t count) {
    EvalResult r;
    r.count = count;
    r.loss = host_values(ctx, loss_sum)[0] / static_cast<double>(count);
    r.accuracy = static_cast<double>(to_host(ctx, correct).data<int64_t>()[0]) / static_cast<double>(count);
    return r;
  }
  Tensor loss_sum, correct;
};

// Batches of a set: full batches, plus the remainder when it has >= 2
// images (batch norm needs two values per channel in training).
int64_t batches_of(int64_t n, int64_t batch, bool training) {
  const int64_t full = n / batch, rest = n % batch;
  return full + ((rest >= (training ? 2 : 1)) ? 1 : 0);
}

}  // namespace

DeviceDataset::DeviceDataset(Context& ctx, const Dataset& d)
    : images(upload(ctx, d.images, {d.size(), d.channels, d.height, d.width})),
      labels(upload(ctx, d.labels, {d.size()})),
      size(d.size()),
      channels(d.channels),
      height(d.height),
      width(d.width) {}

AugmentSpec augment_spec(const ModelSpec& spec, bool augment, int crop_pad, uint64_t seed, uint64_t epoch) {
  ROTOR_CHECK(spec.in_channels <= AugmentSpec::max_channels, "images with {} channels (at most {} are supported)",
              spec.in_channels, AugmentSpec::max_channels);
  AugmentSpec a;
  a.c = spec.in_channels;
  a.h = spec.height;
  a.w = spec.width;
  a.pad = augment ? crop_pad : 0;
  a.flip = augment;
  a.seed = seed;
  a.epoch = epoch;
  for (int64_t c = 0; c < spec.in_channels; ++c) {
    a.mean[c] = spec.mean.empty() ? 0.0f : static_cast<float>(spec.mean[c]);
    a.inv_std[c] = spec.std.empty() ? 1.0f / 255.0f : static_cast<float>(1.0 / spec.std[c]);
  }
  return a;
}

void check_data_fits(const ModelSpec& spec, const DataSplit& data, const std::string& model_name) {
  ROTOR_CHECK(data.classes == spec.classes && data.test.channels == spec.in_channels &&
                  data.test.height == spec.height && data.test.width == spec.width,
              "{} expects {}x{}x{} images in {} classes; {} has {}x{}x{} in {}", model_name, spec.in_channels,
              spec.height, spec.width, spec.classes, data.name, data.test.channels, data.test.height, data.test.width,
              data.classes);
}

EvalResult evaluate(Context& ctx, Model& model, const DeviceDataset& data, int64_t batch) {
  const ModelSpec& spec = model.spec();
  ROTOR_CHECK(data.channels == spec.in_channels && data.height == spec.height && data.width == spec.width,
              "the data's images are {}x{}x{} but the model {} expects {}x{}x{}", data.channels, data.height,
              data.width, spec.arch, spec.in_channels, spec.height, spec.width);
  const AugmentSpec aug = augment_spec(spec, false, 0, 0, 0);
  std::vector<int32_t> order(static_cast<size_t>(data.size));
  std::iota(order.begin(), order.end(), 0);
  const Tensor indices = upload(ctx, order, {data.size});
  Tally tally(ctx);
  const int64_t steps = batches_of(data.size, batch, false);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t begin = s * batch, end = std::min(data.size, begin + batch);
    Tensor x = Tensor::empty(ctx, {end - begin, spec.in_channels, spec.height, spec.width});
    Tensor y = Tensor::empty(ctx, {end - begin}, DType::i32);
    assemble_batch(ctx, data.images, data.labels, indices.slice(begin, end), aug, x, y);
    Graph g(ctx, false);
    Var logits = model.forward(g, make_var(x));
    Var loss = softmax_cross_entropy(g, logits, y);
    tally.add(ctx, loss->value, logits->value, y);
  }
  return tally.result(ctx, data.size);
}

StepOutput forward_backward(Context& ctx, Model& model, const Tensor& x, const Tensor& labels, uint64_t graph_seed,
                            const std::function<void(const Tensor& loss)>& check_loss, const uint64_t* step_seed_dev) {
  Graph g(ctx, true, graph_seed, step_seed_dev);
  Var logits = model.forward(g, make_var(x));
  Var loss = softmax_cross_entropy(g, logits, labels);
  if (check_loss) check_loss(loss->value);
  g.backward(loss);
  return {loss->value, logits->value};
}

StepOutput train_step(Context& ctx, Model& model, Optimizer& optimizer, const Tensor& x, const Tensor& labels,
                      double lr, uint64_t graph_seed, const std::function<void(const Tensor& loss)>& check_loss) {
  StepOutput out = forward_backward(ctx, model, x, labels, graph_seed, check_loss);
  optimizer.step(lr);
  return out;
}

void tally_step(Context& ctx, const StepOutput& step, const Tensor& labels, Tensor& loss_sum, Tensor& correct) {
  axpy(ctx, static_cast<float>(labels.numel()), step.loss, loss_sum);
  count_correct(ctx, step.logits, labels, correct);
}

static std::vector<std::pair<std::string, Parameter*>> all_parameters(Model& m) { return m.named_parameters(); }

Trainer::Trainer(Context& ctx, Model& model, const DataSplit& data, const TrainSettings& settings)
    : ctx_(ctx),
      model_(model),
      settings_(settings),
      train_(ctx, data.train),
      test_(ctx, data.test),
      optimizer_(ctx, all_parameters(model), settings.optimizer),
      proximal_(all_parameters(model), settings.sparsity),
      loss_sum_(Tensor::empty(ctx, {1})),
      correct_(Tensor::empty(ctx, {1}, DType::i64)) {
  ROTOR_CHECK(settings_.batch >= 2, "batch size {} is too small (batch norm needs at least 2)", settings_.batch);
  ROTOR_CHECK(settings_.epochs >= 1, "the number of epochs must be at least 1");
  ROTOR_CHECK(train_.size >= 2, "the training set has {} images", train_.size);
  ROTOR_CHECK(!settings_.cuda_graph || ctx.on_cuda(), "--cuda-graph on needs --device cuda (this run is on {})",
              device_name(ctx.device()));
  if (settings_.cuda_graph)
    graph_ = std::make_unique<GraphStep>(ctx, model, optimizer_, proximal_, settings_.sparsity.any(), settings_.batch);
}

Trainer::~Trainer() = default;

int64_t Trainer::steps_per_epoch() const { return batches_of(train_.size, settings_.batch, true); }

std::optional<EpochResult> Trainer::train_epoch_or_stop(const Progress& progress, const StopCheck& stop) {
  const ModelSpec& spec = model_.spec();
  const int64_t epoch = epochs_done_ + 1;
  const int64_t steps = steps_per_epoch();
  const int64_t n = train_.size, batch = settings_.batch;

  // This epoch's order: a Fisher-Yates shuffle from the run's stream (drawn
  // again from the epoch's starting state when continuing a stopped epoch).
  const std::optional<PartialEpoch> resumed = std::move(partial_);
  partial_.reset();
  if (resumed) ctx_.rng().set_state(resumed->rng_at_start);
  const Rng::State rng_at_start = ctx_.rng().state();
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[ctx_.rng().below(static_cast<uint64_t>(i + 1))]);
  const Tensor indices = upload(ctx_, order, {n});
  const AugmentSpec aug =
      augment_spec(spec, settings_.augment, settings_.crop_pad, hash_u64(settings_.seed, 0xA11CE), epoch);

  const auto t0 = std::chrono::steady_clock::now();
  Tally tally(loss_sum_, correct_);
  if (resumed) {
    copy(ctx_, resumed->loss_sum, tally.loss_sum);
    copy(ctx_, resumed->correct, tally.correct);
  } else {
    tally.reset(ctx_);
  }
  double lr = resumed ? resumed->lr : 0;
  int64_t seen = resumed ? resumed->seen : 0;
  const bool loss_on_host = !ctx_.on_cuda();
  for (int64_t s = resumed ? resumed->step : 0; s < steps; ++s) {
    const int64_t begin = s * batch, end = std::min(n, begin + batch);
    const int64_t global_step = (epoch - 1) * steps + s;
    lr = learning_rate(settings_.schedule, global_step, steps, settings_.epochs);
    ROTOR_CHECK(std::isfinite(lr), "the {} schedule gives a learning rate of {} at epoch {}, step {}",
                schedule_kind_name(settings_.schedule.kind), lr, epoch, s + 1);
    // Checked before the update, so the parameters stay those of the last
    // finite step (free on the CPU: the loss is in host memory already).
    const auto check_loss = [&](const Tensor& loss) {
      if (!loss_on_host) return;
      const float value = loss.f32()[0];
      ROTOR_CHECK(std::isfinite(value), "the training loss is {} at epoch {}, step {} of {} (learning rate {:.3g}): "
                  "the run diverged; try a lower --lr",
                  value, epoch, s + 1, steps, lr);
    };
    const uint64_t graph_seed = hash_u64(settings_.seed, static_cast<uint64_t>(global_step));
    if (graph_ && end - begin == batch) {
      // A full batch: into the graph step's fixed buffers, then replayed.
      assemble_batch(ctx_, train_.images, train_.labels, indices.slice(begin, end), aug, graph_->x(),
                     graph_->labels());
      graph_->run(lr, graph_seed, tally.loss_sum, tally.correct);
    } else {
      // Eager; also the short last batch of a graph run (another shape).
      Tensor x = Tensor::empty(ctx_, {end - begin, spec.in_channels, spec.height, spec.width});
      Tensor y = Tensor::empty(ctx_, {end - begin}, DType::i32);
      assemble_batch(ctx_, train_.images, train_.labels, indices.slice(begin, end), aug, x, y);
      const StepOutput out = train_step(ctx_, model_, optimizer_, x, y, lr, graph_seed, check_loss);
      if (settings_.sparsity.any()) proximal_.apply(ctx_, lr);
      tally.add(ctx_, out.loss, out.logits, y);
    }
    seen += end - begin;
    if (progress)
      progress(s + 1, steps, seconds_since(t0),
               [&] { return host_values(ctx_, tally.loss_sum)[0] / static_cast<double>(seen); });
    if (s + 1 < steps && stop && stop()) {
      // Copies: the trainer's sums are reused by the next epoch.
      partial_ = PartialEpoch{s + 1, rng_at_start, lr, seen, Tensor::empty(ctx_, {1}),
                              Tensor::empty(ctx_, {1}, DType::i64)};
      copy(ctx_, tally.loss_sum, partial_->loss_sum);
      copy(ctx_, tally.correct, partial_->correct);
      ctx_.synchronize();
      return std::nullopt;
    }
  }
  ctx_.synchronize();
  EpochResult r;
  r.epoch = epoch;
  r.lr = lr;
  r.epoch_seconds = seconds_since(t0);
  r.images_per_second = static_cast<double>(seen) / r.epoch_seconds;
  const EvalResult train = tally.result(ctx_, seen);
  // On CUDA this is where the loss first reaches the host (a NaN also
  // stands for a label outside the classes there: kernels/softmax_ce.h).
  ROTOR_CHECK(std::isfinite(train.loss), "the training loss is {} in epoch {} (on {} it reaches the host once per "
              "epoch, so the step is not known; learning rate {:.3g} at the epoch's end): the run diverged; try a "
              "lower --lr",
              train.loss, epoch, device_name(ctx_.device()), lr);
  r.train_loss = train.loss;
  r.train_accuracy = train.accuracy;
  const auto t1 = std::chrono::steady_clock::now();
  r.test = evaluate(ctx_, model_, test_, settings_.eval_batch);
  ROTOR_CHECK(std::isfinite(r.test.loss), "the test loss is {} after epoch {}: the parameters are no longer finite",
              r.test.loss, epoch);
  r.eval_seconds = seconds_since(t1);
  epochs_done_ = epoch;
  return r;
}

void require_finite_model(Context& ctx, Model& model, const std::string& what) {
  // Counted on the tensor's device (count_nonfinite): one integer per tensor
  // reaches the host, not every parameter.
  const auto check = [&](const std::string& name, const Tensor& t) {
    if (t.dtype() != DType::f32) return;
    const int64_t bad = count_nonfinite(ctx, t);
    ROTOR_CHECK(bad == 0, "not writing {}: {} holds {} non-finite values (NaN or infinity)", what, name, bad);
  };
  for (auto& [name, p] : model.named_parameters()) check(name, p->value());
  for (auto& [name, b] : model.named_buffers()) check(name, *b);
}

}  // namespace rotor
