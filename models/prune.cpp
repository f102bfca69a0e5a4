// prune_model: per architecture, decide the surviving channels from the
// criterion's scores (slopes, batch-norm scales or their product), write
// them into a new spec (ModelSpec::live), build that network and fill it
// with slices of the old one's tensors.
#include "models/prune.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/fcnn.h"
#include "models/live_channels.h"
#include "models/resnet.h"
#include "models/wide_resnet.h"

namespace rotor {
namespace {

using Positions = std::vector<int64_t>;

Positions all_of(int64_t n) {
  Positions p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  return p;
}

// The host copies of a model's tensors, by name, that the new network takes slices of.
class Source {
 public:
  Source(Context& ctx, Model& model) {
    for (auto& [name, p] : model.named_parameters()) tensors_[name] = to_host(ctx, p->value());
    for (auto& [name, b] : model.named_buffers()) tensors_[name] = to_host(ctx, *b);
  }
  const Tensor& at(const std::string& name) const {
    const auto it = tensors_.find(name);
    ROTOR_CHECK(it != tensors_.end(), "prune: the model has no tensor '{}'", name);
    return it->second;
  }
  std::vector<float> values(const std::string& name) const {
    const Tensor& t = at(name);
    return std::vector<float>(t.f32(), t.f32() + t.numel());
  }
  bool has(const std::string& name) const { return tensors_.count(name) > 0; }

 private:
  std::map<std::string, Tensor> tensors_;
};

constexpr double never = std::numeric_limits<double>::infinity();  // a score no gamma reaches

// Positions whose score is at least gamma.
Positions keep_of(const std::vector<double>& scores, double gamma) {
  Positions out;
  for (size_t p = 0; p < scores.size(); ++p)
    if (scores[p] >= gamma) out.push_back(static_cast<int64_t>(p));
  return out;
}

// Scores of the channels of batch norm `bn` and the activation fused with
// it (its slope `bn`.slope, if any).
std::vector<double> bn_scores(const Source& src, const std::string& bn, PruneBy by) {
  const std::vector<float> scale = src.values(bn + ".weight");
  const bool has_slope = src.has(bn + ".slope");
  const std::vector<float> slope = has_slope ? src.values(bn + ".slope") : std::vector<float>{};
  std::vector<double> out(scale.size(), never);
  for (size_t i = 0; i < scale.size(); ++i) {
    const double g = scale[i], b = has_slope ? slope[i] : 0.0;
    if (by == PruneBy::bn_scale) out[i] = std::fabs(g);
    else if (has_slope) out[i] = by == PruneBy::slope ? std::fabs(b) : std::fabs(g * b);
  }
  return out;
}

// ResNet, after the addition: scores of the stream channels (by the block's
// act.slope) ...
std::vector<double> stream_scores(const Source& src, const std::string& block, int64_t width, PruneBy by) {
  std::vector<double> out(static_cast<size_t>(width), never);
  if (by == PruneBy::bn_scale || !src.has(block + "act.slope")) return out;
  const std::vector<float> slope = src.values(block + "act.slope");
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::fabs(static_cast<double>(slope[i]));
  return out;
}

// ... and of the residual branch's channels (bn2, which writes the stream
// channels `out`), by |gamma_bn2| or |gamma_bn2 * b_act|.
std::vector<double> branch_scores(const Source& src, const std::string& block, const Positions& out, PruneBy by) {
  const std::vector<float> scale = src.values(block + "bn2.weight");
  std::vector<double> s(scale.size(), never);
  const bool has_slope = src.has(block + "act.slope");
  if (by == PruneBy::slope || (by == PruneBy::product && !has_slope)) return s;
  const std::vector<float> slope = has_slope ? src.values(block + "act.slope") : std::vector<float>{};
  for (size_t j = 0; j < s.size(); ++j) {
    const double g = scale[j];
    s[j] = by == PruneBy::bn_scale ? std::fabs(g) : std::fabs(g * static_cast<double>(slope[out[j]]));
  }
  return s;
}

// src restricted to `rows` along dim 0 and `cols` along dim 1 (nullptr: all).
Tensor take(const Tensor& src, const Positions* rows, const Positions* cols) {
  const Shape& s = src.shape();
  Shape out_shape = s;
  if (rows) out_shape[0] = static_cast<int64_t>(rows->size());
  if (cols) out_shape[1] = static_cast<int64_t>(cols->size());
  Tensor out = Tensor::host(out_shape);
  int64_t inner = 1;
  for (size_t d = 2; d < s.size(); ++d) inner *= s[d];
  const int64_t in_cols = s.size() > 1 ? s[1] : 1, out_cols = out_shape.size() > 1 ? out_shape[1] : 1;
  for (int64_t r = 0; r < out_shape[0]; ++r)
    for (int64_t c = 0; c < out_cols; ++c) {
      const int64_t sr = rows ? (*rows)[r] : r, sc = cols ? (*cols)[c] : c;
      std::copy_n(src.f32() + (sr * in_cols + sc) * inner, inner, out.f32() + (r * out_cols + c) * inner);
    }
  return out;
}

// Tensors of the new network by name, copied in once it is built.
using Target = std::map<std::string, Tensor>;

void take_bn(const Source& src, Target& dst, const std::string& bn, const Positions& keep) {
  for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"})
    dst[bn + part] = take(src.at(bn + part), &keep, nullptr);
  if (src.has(bn + ".slope")) dst[bn + ".slope"] = take(src.at(bn + ".slope"), &keep, nullptr);
}

void copy_whole(const Source& src, Target& dst, const std::string& prefix, Model& model) {
  for (auto& [name, p] : model.named_parameters())
    if (name.rfind(prefix, 0) == 0) dst[name] = src.at(name);
  for (auto& [name, b] : model.named_buffers())
    if (name.rfind(prefix, 0) == 0) dst[name] = src.at(name);
}

// Elements of `list` at `positions`.
Positions pick(const Positions& list, const Positions& positions) {
  Positions out;
  for (int64_t p : positions) out.push_back(list[p]);
  return out;
}

// Positions within `list` of the values that are in `keep` (both sorted).
Positions positions_in(const Positions& list, const Positions& keep) {
  Positions out;
  for (size_t i = 0; i < list.size(); ++i)
    if (std::binary_search(keep.begin(), keep.end(), list[i])) out.push_back(static_cast<int64_t>(i));
  return out;
}

std::unique_ptr<Model> build_filled(Context& ctx, const ModelSpec& spec, const Target& tensors) {
  std::unique_ptr<Model> model = build_model(ctx, spec);
  for (auto& [name, p] : model->named_parameters()) {
    const auto it = tensors.find(name);
    ROTOR_CHECK(it != tensors.end() && it->second.shape() == p->value().shape(), "prune: no slice for '{}'", name);
    copy(ctx, it->second, p->value());
  }
  for (auto& [name, b] : model->named_buffers()) {
    const auto it = tensors.find(name);
    ROTOR_CHECK(it != tensors.end() && it->second.shape() == b->shape(), "prune: no slice for buffer '{}'", name);
    copy(ctx, it->second, *b);
  }
  return model;
}

std::unique_ptr<Model> prune_fcnn(Context& ctx, Fcnn& model, double gamma, PruneBy by) {
  const Source src(ctx, model);
  ModelSpec spec = model.spec();
  const int64_t hidden = src.at("bn1.weight").numel();
  const Positions keep = keep_of(bn_scores(src, "bn1", by), gamma);
  // Original neuron indices of the current hidden units (a pruned FCNN lists them).
  Positions original = all_of(hidden);
  if (!spec.live.is_null()) {
    original.clear();
    for (const Json& v : spec.live.at("hidden").as_array("live hidden")) original.push_back(v.as_int("live hidden"));
    ROTOR_CHECK(static_cast<int64_t>(original.size()) == hidden, "prune: live hidden lists {} units, the model has {}",
                original.size(), hidden);
  }
  spec.arch = fmt::format("fcnn-{}", keep.size());
  Json list = Json::array();
  for (int64_t p : keep) list.push(original[p]);
  spec.live = Json::object();
  spec.live.set("hidden", list);
  Target t;
  t["fc1.weight"] = take(src.at("fc1.weight"), &keep, nullptr);
  take_bn(src, t, "bn1", keep);
  t["fc2.weight"] = take(src.at("fc2.weight"), nullptr, &keep);
  t["fc2.bias"] = src.at("fc2.bias");
  return build_filled(ctx, spec, t);
}

std::vector<BlockLive> current_live(const Json& live, size_t blocks, bool has_out,
                                    const std::function<BlockLive(size_t)>& full) {
  if (!live.is_null()) return parse_block_live(live, blocks, has_out);
  std::vector<BlockLive> out;
  for (size_t b = 0; b < blocks; ++b) out.push_back(full(b));
  return out;
}

std::unique_ptr<Model> prune_resnet(Context& ctx, ResNet& model, double gamma, PruneBy by) {
  const Source src(ctx, model);
  ModelSpec spec = model.spec();
  const size_t nb = model.blocks.size();
  const std::vector<BlockLive> cur = current_live(spec.live, nb, true, [&](size_t b) {
    return BlockLive{all_of(model.blocks[b]->in), all_of(model.blocks[b]->out), all_of(model.blocks[b]->out)};
  });
  std::vector<BlockLive> next(nb);
  Target t;
  copy_whole(src, t, "stem_", model);
  copy_whole(src, t, "fc.", model);
  Positions stream_live = all_of(model.blocks[0]->in);  // the stem's ReLU output: every channel
  for (size_t b = 0; b < nb; ++b) {
    const std::string n = model.block_names[b] + ".";
    const BasicBlock& blk = *model.blocks[b];
    const Positions mid_pos = keep_of(bn_scores(src, n + "bn1", by), gamma);
    const std::vector<double> stream = stream_scores(src, n, blk.out, by);
    const Positions act_live = keep_of(stream, gamma);
    const Positions in_pos = positions_in(cur[b].in, stream_live);  // conv1 input slices kept
    // conv2 filters kept: those of live stream channels whose branch lives.
    const Positions branch_keep = keep_of(branch_scores(src, n, cur[b].out, by), gamma);
    const Positions stream_keep = positions_in(cur[b].out, act_live);
    Positions out_pos;
    std::set_intersection(stream_keep.begin(), stream_keep.end(), branch_keep.begin(), branch_keep.end(),
                          std::back_inserter(out_pos));
    next[b] = {pick(cur[b].in, in_pos), pick(cur[b].mid, mid_pos), pick(cur[b].out, out_pos)};
    t[n + "conv1.weight"] = take(src.at(n + "conv1.weight"), &mid_pos, &in_pos);
    take_bn(src, t, n + "bn1", mid_pos);
    t[n + "conv2.weight"] = take(src.at(n + "conv2.weight"), &out_pos, &mid_pos);
    take_bn(src, t, n + "bn2", out_pos);
    if (src.has(n + "act.slope")) {
      // The stream keeps its width: dead stream channels keep a zero slope, so
      // the block outputs exactly 0 there, as the masked network does.
      Tensor slope = src.at(n + "act.slope");
      Tensor masked = Tensor::host(slope.shape());
      for (int64_t j = 0; j < slope.numel(); ++j) masked.f32()[j] = stream[j] >= gamma ? slope.f32()[j] : 0.0f;
      t[n + "act.slope"] = masked;
    }
    stream_live = act_live;
  }
  spec.live = block_live_json(next, true);
  return build_filled(ctx, spec, t);
}

std::unique_ptr<Model> prune_wide_resnet(Context& ctx, WideResNet& model, double gamma, PruneBy by) {
  const Source src(ctx, model);
  ModelSpec spec = model.spec();
  const size_t nb = model.blocks.size();
  const std::vector<BlockLive> cur = current_live(spec.live, nb, false, [&](size_t b) {
    return BlockLive{all_of(model.blocks[b]->in), all_of(model.blocks[b]->out), {}};
  });
  std::vector<BlockLive> next(nb);
  Target t;
  copy_whole(src, t, "stem_", model);
  copy_whole(src, t, "final_bn.", model);
  copy_whole(src, t, "fc.", model);
  for (size_t b = 0; b < nb; ++b) {
    const std::string n = model.block_names[b] + ".";
    const Positions in_pos = keep_of(bn_scores(src, n + "bn1", by), gamma);
    const Positions mid_pos = keep_of(bn_scores(src, n + "bn2", by), gamma);
    next[b] = {pick(cur[b].in, in_pos), pick(cur[b].mid, mid_pos), {}};
    take_bn(src, t, n + "bn1", in_pos);
    t[n + "conv1.weight"] = take(src.at(n + "conv1.weight"), &mid_pos, &in_pos);
    take_bn(src, t, n + "bn2", mid_pos);
    t[n + "conv2.weight"] = take(src.at(n + "conv2.weight"), nullptr, &mid_pos);
    if (src.has(n + "shortcut.weight")) t[n + "shortcut.weight"] = take(src.at(n + "shortcut.weight"), nullptr, &in_pos);
  }
  spec.live = block_live_json(next, false);
  return build_filled(ctx, spec, t);
}

// What a criterion scores: per batch norm (its scale and shift are zeroed
// where the channel dies) or per stream slope (zeroed where it dies).
struct ScoredUnit {
  std::string name;  // batch norm prefix, or the slope parameter
  bool is_slope = false;
  std::vector<double> scores;
};

std::vector<ScoredUnit> scored_units(const Source& src, Model& model, PruneBy by) {
  std::vector<ScoredUnit> units;
  if (dynamic_cast<Fcnn*>(&model)) {
    units.push_back({"bn1", false, bn_scores(src, "bn1", by)});
  } else if (auto* m = dynamic_cast<ResNet*>(&model)) {
    const size_t nb = m->blocks.size();
    const std::vector<BlockLive> cur = current_live(m->spec().live, nb, true, [&](size_t b) {
      return BlockLive{all_of(m->blocks[b]->in), all_of(m->blocks[b]->out), all_of(m->blocks[b]->out)};
    });
    for (size_t b = 0; b < nb; ++b) {
      const std::string n = m->block_names[b] + ".";
      units.push_back({n + "bn1", false, bn_scores(src, n + "bn1", by)});
      units.push_back({n + "act.slope", true, stream_scores(src, n, m->blocks[b]->out, by)});
      units.push_back({n + "bn2", false, branch_scores(src, n, cur[b].out, by)});
    }
  } else if (auto* m = dynamic_cast<WideResNet*>(&model)) {
    for (const std::string& name : m->block_names) {
      units.push_back({name + ".bn1", false, bn_scores(src, name + ".bn1", by)});
      units.push_back({name + ".bn2", false, bn_scores(src, name + ".bn2", by)});
    }
  } else {
    fail("prune: no pruning rule for {}", model.spec().arch);
  }
  return units;
}

// Zeroes entries `dead` of the model's parameter `name`.
void zero_entries(Context& ctx, Model& model, const std::string& name, const std::vector<size_t>& dead) {
  for (auto& [n, p] : model.named_parameters())
    if (n == name) {
      std::vector<float> v = host_values(ctx, p->value());
      for (size_t i : dead) v[i] = 0.0f;
      copy(ctx, from_host(ctx, p->value().shape(), v), p->value());
      return;
    }
  fail("prune: the model has no parameter '{}'", name);
}

}  // namespace

const char* prune_by_name(PruneBy by) {
  switch (by) {
    case PruneBy::slope: return "slope";
    case PruneBy::bn_scale: return "bn-scale";
    case PruneBy::product: return "product";
  }
  return "?";
}

PruneBy parse_prune_by(const std::string& s) {
  if (s == "slope") return PruneBy::slope;
  if (s == "bn-scale") return PruneBy::bn_scale;
  if (s == "product") return PruneBy::product;
  fail("--by: expected slope, bn-scale or product, got '{}'", s);
}

int64_t mask_channels(Context& ctx, Model& model, double gamma, PruneBy by) {
  if (by == PruneBy::slope) return mask_slopes(ctx, model, gamma);
  const Source src(ctx, model);
  int64_t masked = 0;
  for (const ScoredUnit& u : scored_units(src, model, by)) {
    std::vector<size_t> dead;
    for (size_t i = 0; i < u.scores.size(); ++i)
      if (u.scores[i] < gamma) dead.push_back(i);
    if (dead.empty()) continue;
    masked += static_cast<int64_t>(dead.size());
    if (u.is_slope) {
      zero_entries(ctx, model, u.name, dead);
    } else {
      zero_entries(ctx, model, u.name + ".weight", dead);
      zero_entries(ctx, model, u.name + ".bias", dead);
    }
  }
  return masked;
}

std::vector<double> prune_scores(Context& ctx, Model& model, PruneBy by) {
  if (by == PruneBy::slope) return slope_magnitudes(ctx, model);
  const Source src(ctx, model);
  std::vector<double> out;
  for (const ScoredUnit& u : scored_units(src, model, by))
    for (double v : u.scores)
      if (v != never) out.push_back(v);
  std::sort(out.begin(), out.end());
  return out;
}

int64_t mask_slopes(Context& ctx, Model& model, double gamma) {
  int64_t masked = 0;
  for (auto& [name, p] : model.named_slopes()) {
    std::vector<float> v = host_values(ctx, p->value());
    for (float& b : v)
      if (std::fabs(static_cast<double>(b)) < gamma) {
        ++masked;
        b = 0.0f;
      }
    copy(ctx, from_host(ctx, p->value().shape(), v), p->value());
  }
  return masked;
}

std::vector<double> slope_magnitudes(Context& ctx, Model& model) {
  std::vector<double> m;
  for (auto& [name, p] : model.named_slopes())
    for (float b : host_values(ctx, p->value())) m.push_back(std::fabs(static_cast<double>(b)));
  std::sort(m.begin(), m.end());
  return m;
}

std::unique_ptr<Model> prune_model(Context& ctx, Model& model, double gamma, PruneBy by) {
  ROTOR_CHECK(gamma >= 0 && std::isfinite(gamma), "prune: gamma {} must be a finite number >= 0", gamma);
  if (auto* m = dynamic_cast<Fcnn*>(&model)) return prune_fcnn(ctx, *m, gamma, by);
  if (auto* m = dynamic_cast<ResNet*>(&model)) return prune_resnet(ctx, *m, gamma, by);
  if (auto* m = dynamic_cast<WideResNet*>(&model)) return prune_wide_resnet(ctx, *m, gamma, by);
  fail("prune: no pruning rule for {}", model.spec().arch);
}

}  // namespace rotor
