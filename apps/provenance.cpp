#include "apps/provenance.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/tensor_file.h"

namespace rotor {
namespace {

void read_training(const Json& header, const std::string& path, Provenance& p) {
  try {
    if (const Json* trained = header.find("trained"); trained && trained->is_object()) {
      if (const Json* d = trained->find("data")) p.data = d->as_string("trained.data");
      if (const Json* v = trained->find("val_split")) p.val = ValidationSplit::from_json(*v);
    }
    if (const Json* e = header.find("epochs_done")) p.epochs = e->as_int("epochs_done");
  } catch (const Error& e) {
    fail("{}: bad training record: {}", path, e.what());
  }
}

}  // namespace

Provenance read_provenance(const Json& header, const std::string& path) {
  Provenance p;
  read_training(header, path, p);
  if (const Json* from = header.find("pruned_from"); from && from->is_string()) {
    p.pruned_from = from->as_string();
    if (const Json* by = header.find("prune_by")) {
      const std::string name = by->is_string() ? by->as_string() : by->dump();
      try {
        p.pruned_by = parse_prune_by(name);
      } catch (const Error&) {
        fail("{}: prune_by: expected slope, bn-scale or product, got '{}'", path, name);
      }
    }
    if (const Json* g = header.find("gamma"); g && g->is_number())
      p.pruned_gamma = score_threshold(g->as_number(), p.pruned_by.value_or(PruneBy::slope));
    // The original may have moved away since: then the data stays unknown.
    if (p.data.empty() && std::filesystem::exists(p.pruned_from)) {
      try {
        read_training(read_tensor_file(p.pruned_from).header, p.pruned_from, p);
      } catch (const Error&) {
      }
    }
  }
  return p;
}

}  // namespace rotor
