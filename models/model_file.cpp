#include "models/model_file.h"

#include "engine/context.h"
#include "engine/tensor_util.h"

namespace rotor {

static constexpr const char* model_kind = "rotor-model";

std::vector<std::pair<std::string, const Tensor*>> module_state(Module& module, const std::string& prefix) {
  std::vector<std::pair<std::string, const Tensor*>> out;
  for (auto& [name, p] : module.named_parameters()) out.emplace_back(prefix + name, &p->value());
  for (auto& [name, b] : module.named_buffers()) out.emplace_back(prefix + name, b);
  return out;
}

void save_model_file(Context& ctx, const std::string& path, Model& model, const Json& extra) {
  Json header = extra.is_null() ? Json::object() : extra;
  header.set("kind", model_kind);
  header.set("model", model.spec().to_json());
  write_tensor_file(ctx, path, header, module_state(model));
}

ModelSpec read_model_spec(const TensorFile& file, const std::string& path) {
  const Json* kind = file.header.find("kind");
  ROTOR_CHECK(kind && kind->is_string() && kind->as_string() == model_kind,
              "{} is not a model file (it is a {})", path,
              kind && kind->is_string() ? kind->as_string() : std::string("file of unknown kind"));
  try {
    return ModelSpec::from_json(file.header.at("model"));
  } catch (const Error& e) {
    fail("{}: bad model description: {}", path, e.what());
  }
}

void load_module_state(Context& ctx, Module& module, const TensorFile& file, const std::string& path,
                       const std::string& prefix) {
  auto load = [&](const std::string& name, Tensor& target) {
    const Tensor* src = file.find(prefix + name);
    ROTOR_CHECK(src != nullptr, "{}: no tensor '{}' (the file holds a different architecture)", path,
                prefix + name);
    ROTOR_CHECK(src->shape() == target.shape() && src->dtype() == target.dtype(),
                "{}: tensor '{}' has shape {} but this model needs {} (the file holds a different architecture)",
                path, prefix + name, shape_str(src->shape()), shape_str(target.shape()));
    copy(ctx, *src, target);
  };
  for (auto& [name, p] : module.named_parameters()) load(name, p->value());
  for (auto& [name, b] : module.named_buffers()) load(name, *b);
}

std::unique_ptr<Model> load_model_file(Context& ctx, const std::string& path) {
  const TensorFile file = read_tensor_file(path);
  const ModelSpec spec = read_model_spec(file, path);
  std::unique_ptr<Model> model = build_model(ctx, spec);
  load_module_state(ctx, *model, file, path);
  return model;
}

}  // namespace rotor
