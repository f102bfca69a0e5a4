// Model files: a ModelSpec and every parameter and buffer of the network,
// in the tensor-file container (engine/tensor_file.h).
//
// A model file is self-contained: rotor eval/prune/report rebuild the
// network from its spec. Loading into an existing module requires the same
// names and shapes, so a file from another architecture is refused with the
// first tensor that differs.
#pragma once

#include <memory>
#include <string>

#include "engine/tensor_file.h"
#include "models/model.h"

namespace rotor {

// extra: more header fields (training provenance, pruning info).
void save_model_file(Context& ctx, const std::string& path, Model& model, const Json& extra = Json::object());

std::unique_ptr<Model> load_model_file(Context& ctx, const std::string& path);
// The spec alone (no tensors are moved to the device).
ModelSpec read_model_spec(const TensorFile& file, const std::string& path);

// Copies the file's tensors into the module's parameters and buffers: every
// one must be present with the same shape. `prefix` selects tensors named
// "<prefix><name>" (checkpoints keep the model under "model.").
void load_module_state(Context& ctx, Module& module, const TensorFile& file, const std::string& path,
                       const std::string& prefix = "");
// The module's parameters and buffers, named "<prefix><name>", for writing.
std::vector<std::pair<std::string, const Tensor*>> module_state(Module& module, const std::string& prefix = "");

}  // namespace rotor
