#include "apps/checkpoint.h"

#include <fmt/format.h>

#include <cstdlib>

#include "engine/tensor_file.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"

namespace rotor {

static constexpr const char* checkpoint_kind = "rotor-checkpoint";

void save_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer,
                     const TrainingState& state) {
  Json header = Json::object();
  header.set("kind", checkpoint_kind);
  header.set("model", model.spec().to_json());
  header.set("epochs_done", state.epochs_done);
  header.set("optimizer_steps", optimizer.steps_taken());
  Json rng = Json::array();  // hex: JSON numbers cannot hold 64-bit words exactly
  for (uint64_t w : state.rng) rng.push(fmt::format("{:016x}", w));
  header.set("rng", rng);
  std::vector<std::pair<std::string, const Tensor*>> tensors = module_state(model, "model.");
  for (auto& [name, t] : optimizer.named_state()) tensors.emplace_back("optim." + name, t);
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
  const Json::Array& rng = file.header.at("rng").as_array("rng");
  ROTOR_CHECK(rng.size() == 4, "{}: the random state has {} words, expected 4", path, rng.size());
  for (size_t i = 0; i < 4; ++i) state.rng[i] = std::strtoull(rng[i].as_string("rng word").c_str(), nullptr, 16);
  return state;
}

}  // namespace rotor
