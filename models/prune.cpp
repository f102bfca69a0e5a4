// prune_model: per architecture, decide the surviving channels from the
// slopes, write them into a new spec (ModelSpec::live), build that network
// and fill it with slices of the old one's tensors.
#include "models/prune.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
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

// Positions p with |values[p]| >= gamma.
Positions alive(const std::vector<float>& values, double gamma) {
  Positions out;
  for (size_t p = 0; p < values.size(); ++p)
    if (std::fabs(static_cast<double>(values[p])) >= gamma) out.push_back(static_cast<int64_t>(p));
  return out;
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

std::unique_ptr<Model> prune_fcnn(Context& ctx, Fcnn& model, double gamma) {
  const Source src(ctx, model);
  ModelSpec spec = model.spec();
  const int64_t hidden = src.at("bn1.weight").numel();
  Positions keep = all_of(hidden);
  if (src.has("bn1.slope")) keep = alive(src.values("bn1.slope"), gamma);
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

std::unique_ptr<Model> prune_resnet(Context& ctx, ResNet& model, double gamma) {
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
    const bool has_slopes = src.has(n + "bn1.slope");
    const Positions mid_pos = has_slopes ? alive(src.values(n + "bn1.slope"), gamma) : all_of(cur[b].mid.size());
    const Positions act_live = has_slopes ? alive(src.values(n + "act.slope"), gamma) : all_of(blk.out);
    const Positions in_pos = positions_in(cur[b].in, stream_live);    // conv1 input slices kept
    const Positions out_pos = positions_in(cur[b].out, act_live);     // conv2 filters kept
    next[b] = {pick(cur[b].in, in_pos), pick(cur[b].mid, mid_pos), pick(cur[b].out, out_pos)};
    t[n + "conv1.weight"] = take(src.at(n + "conv1.weight"), &mid_pos, &in_pos);
    take_bn(src, t, n + "bn1", mid_pos);
    t[n + "conv2.weight"] = take(src.at(n + "conv2.weight"), &out_pos, &mid_pos);
    take_bn(src, t, n + "bn2", out_pos);
    if (has_slopes) {
      // The stream keeps its width: dead stream channels keep a zero slope, so
      // the block outputs exactly 0 there, as the masked network does.
      Tensor slope = src.at(n + "act.slope");
      Tensor masked = Tensor::host(slope.shape());
      for (int64_t j = 0; j < slope.numel(); ++j)
        masked.f32()[j] = std::fabs(static_cast<double>(slope.f32()[j])) >= gamma ? slope.f32()[j] : 0.0f;
      t[n + "act.slope"] = masked;
    }
    stream_live = act_live;
  }
  spec.live = block_live_json(next, true);
  return build_filled(ctx, spec, t);
}

std::unique_ptr<Model> prune_wide_resnet(Context& ctx, WideResNet& model, double gamma) {
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
    const bool has_slopes = src.has(n + "bn1.slope");
    const Positions in_pos = has_slopes ? alive(src.values(n + "bn1.slope"), gamma) : all_of(cur[b].in.size());
    const Positions mid_pos = has_slopes ? alive(src.values(n + "bn2.slope"), gamma) : all_of(cur[b].mid.size());
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

}  // namespace

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

std::unique_ptr<Model> prune_model(Context& ctx, Model& model, double gamma) {
  ROTOR_CHECK(gamma >= 0 && std::isfinite(gamma), "prune: gamma {} must be a finite number >= 0", gamma);
  if (auto* m = dynamic_cast<Fcnn*>(&model)) return prune_fcnn(ctx, *m, gamma);
  if (auto* m = dynamic_cast<ResNet*>(&model)) return prune_resnet(ctx, *m, gamma);
  if (auto* m = dynamic_cast<WideResNet*>(&model)) return prune_wide_resnet(ctx, *m, gamma);
  fail("prune: no pruning rule for {}", model.spec().arch);
}

}  // namespace rotor
