#include "apps/checkpoint.h"

#include <fmt/format.h>

#include <cstdlib>

#include "engine/tensor_file.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"

namespace rotor {

static constexpr const char* checkpoint_kind = "rotor-checkpoint";

// hex: JSON numbers cannot hold 64-bit words exactly
static Json rng_words(const Rng::State& state) {
  Json words = Json::array();
  for (uint64_t w : state) words.push(fmt::format("{:016x}", w));
  return words;
}

static Rng::State rng_state(const Json& words, const std::string& path) {
  const Json::Array& rng = words.as_array("rng");
  ROTOR_CHECK(rng.size() == 4, "{}: the random state has {} words, expected 4", path, rng.size());
  Rng::State state;
  for (size_t i = 0; i < 4; ++i) state[i] = std::strtoull(rng[i].as_string("rng word").c_str(), nullptr, 16);
  return state;
}

static Tensor on_device(Context& ctx, const TensorFile& file, const std::string& name, DType dtype,
                        const std::string& path) {
  const Tensor* src = file.find(name);
  ROTOR_CHECK(src && src->dtype() == dtype && src->numel() == 1, "{}: the partial epoch has no tensor '{}'", path, name);
  Tensor t = Tensor::empty(ctx, {1}, dtype);
  copy(ctx, *src, t);
  return t;
}

void save_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer,
                     const TrainingState& state) {
  Json header = Json::object();
  header.set("kind", checkpoint_kind);
  header.set("model", model.spec().to_json());
  header.set("epochs_done", state.epochs_done);
  header.set("optimizer_steps", optimizer.steps_taken());
  header.set("rng", rng_words(state.rng));
  if (!state.run_id.empty()) header.set("run_id", state.run_id);
  std::vector<std::pair<std::string, const Tensor*>> tensors = module_state(model, "model.");
  for (auto& [name, t] : optimizer.named_state()) tensors.emplace_back("optim." + name, t);
  if (const std::optional<PartialEpoch>& p = state.partial) {
    Json partial = Json::object();
    partial.set("step", p->step);
    partial.set("rng_at_start", rng_words(p->rng_at_start));
    partial.set("lr", p->lr);
    partial.set("seen", p->seen);
    header.set("partial_epoch", partial);
    tensors.emplace_back("epoch.loss_sum", &p->loss_sum);
    tensors.emplace_back("epoch.correct", &p->correct);
  }
  write_tensor_file(ctx, path, header, tensors);
}

TrainingState load_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer) {
  const TensorFile file = read_tensor_file(path);
  const Json* kind = file.header.find("kind");
  ROTOR_CHECK(kind && kind->is_string() && kind->as_string() == checkpoint_kind, "{} is not a training checkpoint",
              path);
  const ModelSpec spec = ModelSpec::from_json(file.header.at("model"));
  ROTOR_CHECK(spec.to_json() == model.spec().to_json(), "{} holds a checkpoint of {}, not of {}", path,
              spec.describe(), model.spec().describe());
  load_module_state(ctx, model, file, path, "model.");
  for (auto& [name, t] : optimizer.named_state()) {
    const Tensor* src = file.find("optim." + name);
    ROTOR_CHECK(src && src->shape() == t->shape(), "{}: optimizer state '{}' is missing or has another shape (was "
                                                   "the run started with another optimizer?)",
                path, name);
    copy(ctx, *src, *t);
  }
  TrainingState state;
  state.epochs_done = file.header.at("epochs_done").as_int("epochs_done");
  optimizer.set_steps_taken(file.header.at("optimizer_steps").as_int("optimizer_steps"));
  state.rng = rng_state(file.header.at("rng"), path);
  if (const Json* id = file.header.find("run_id")) state.run_id = id->as_string("run_id");
  if (const Json* p = file.header.find("partial_epoch")) {
    PartialEpoch partial;
    partial.step = p->at("step").as_int("partial_epoch.step");
    partial.rng_at_start = rng_state(p->at("rng_at_start"), path);
    partial.lr = p->at("lr").as_number("partial_epoch.lr");
    partial.seen = p->at("seen").as_int("partial_epoch.seen");
    partial.loss_sum = on_device(ctx, file, "epoch.loss_sum", DType::f32, path);
    partial.correct = on_device(ctx, file, "epoch.correct", DType::i64, path);
    state.partial = std::move(partial);
  }
  return state;
}

}  // namespace rotor
