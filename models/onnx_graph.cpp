// onnx_model: a small writer of nodes and initializers, and one walk per
// architecture that emits the network's evaluation-mode forward pass in the
// order rotor computes it (so the same additions happen in the same order).
#include "models/onnx_graph.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/fcnn.h"
#include "models/live_channels.h"
#include "models/onnx_export.h"
#include "models/resnet.h"
#include "models/wide_resnet.h"

namespace rotor {
namespace {

using Dims = std::vector<int64_t>;
using Channels = std::vector<int64_t>;

Channels all_of(int64_t n) {
  Channels c(static_cast<size_t>(n));
  std::iota(c.begin(), c.end(), 0);
  return c;
}

int64_t count(const Channels& c) { return static_cast<int64_t>(c.size()); }

void set_ints(onnx::NodeProto& n, const std::string& name, const Dims& values) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
}

void set_int(onnx::NodeProto& n, const std::string& name, int64_t value) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
}

void set_float(onnx::NodeProto& n, const std::string& name, float value) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(value);
}

// Nodes and initializers of one graph. A node has one output value, named
// like the node; every name is used once.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto& g) : g_(g) {}

  std::string floats(const std::string& name, const Dims& shape, const std::vector<float>& values) {
    onnx::TensorProto& t = tensor(name, shape, onnx::TensorProto::FLOAT, values.size());
    t.mutable_float_data()->Add(values.begin(), values.end());
    return name;
  }

  std::string int64s(const std::string& name, const Dims& shape, const std::vector<int64_t>& values) {
    onnx::TensorProto& t = tensor(name, shape, onnx::TensorProto::INT64, values.size());
    t.mutable_int64_data()->Add(values.begin(), values.end());
    return name;
  }

  // A constant shared by every node that needs it (named once).
  std::string shared_int64s(const std::string& name, const std::vector<int64_t>& values) {
    if (!shared_.insert(name).second) return name;
    return int64s(name, {count(values)}, values);
  }

  onnx::NodeProto& node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs) {
    claim(name);
    onnx::NodeProto& n = *g_.add_node();
    n.set_op_type(op);
    n.set_name(name);
    for (const std::string& in : inputs) n.add_input(in);
    n.add_output(name);
    return n;
  }

 private:
  void claim(const std::string& name) {
    ROTOR_CHECK(names_.insert(name).second, "onnx export: the name '{}' would be used twice", name);
  }
  onnx::TensorProto& tensor(const std::string& name, const Dims& shape, int type, size_t n) {
    claim(name);
    ROTOR_CHECK(shape_numel(shape) == static_cast<int64_t>(n), "onnx export: {} values for '{}' of shape {}", n, name,
                shape_str(shape));
    onnx::TensorProto& t = *g_.add_initializer();
    t.set_name(name);
    t.set_data_type(type);
    for (int64_t d : shape) t.add_dims(d);
    return t;
  }

  onnx::GraphProto& g_;
  std::set<std::string> names_, shared_;
};

// Emits one model's nodes; every method takes and returns value names.
class Exporter {
 public:
  Exporter(Context& ctx, Model& model, onnx::GraphProto& g) : w_(g) {
    for (auto& [name, p] : model.named_parameters()) tensors_[name] = to_host(ctx, p->value());
    for (auto& [name, b] : model.named_buffers()) tensors_[name] = to_host(ctx, *b);
  }

  GraphWriter& writer() { return w_; }

  // (pixel - mean) * inv_std with pixel = 255 * image, as assemble_batch
  // computes it (no statistics: mean 0, inv_std 1/255).
  std::string normalise(const ModelSpec& spec, const std::string& image) {
    const int64_t c = spec.in_channels;
    std::vector<float> mean(static_cast<size_t>(c)), inv_std(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) {
      mean[i] = spec.mean.empty() ? 0.0f : static_cast<float>(spec.mean[i]);
      inv_std[i] = spec.std.empty() ? 1.0f / 255.0f : static_cast<float>(1.0 / spec.std[i]);
    }
    const std::string pixels =
        w_.node("Mul", "normalise.pixels", {image, w_.floats("normalise.255", {}, {255.0f})}).output(0);
    const std::string centred =
        w_.node("Sub", "normalise.centred", {pixels, w_.floats("normalise.mean", {1, c, 1, 1}, mean)}).output(0);
    return w_.node("Mul", "normalise", {centred, w_.floats("normalise.inv_std", {1, c, 1, 1}, inv_std)}).output(0);
  }

  std::string conv(const std::string& x, const std::string& name, const Conv2d& c) {
    const Tensor& weight = at(name + ".weight");
    onnx::NodeProto& n = w_.node("Conv", name, {x, param(name + ".weight")});
    set_ints(n, "kernel_shape", {weight.size(2), weight.size(3)});
    set_ints(n, "strides", {c.stride, c.stride});
    set_ints(n, "pads", {c.pad, c.pad, c.pad, c.pad});
    return name;
  }

  // Exact zeros shaped like the output of a conv with `filters` filters
  // whose inputs were all pruned: a conv of zero weights over one channel.
  std::string zero_conv(const std::string& x, const std::string& name, int64_t filters, int64_t kernel, int64_t stride,
                        int64_t pad) {
    const std::string one = select(x, name + ".any_channel", {0}, -1);
    const std::vector<float> zeros(static_cast<size_t>(filters * kernel * kernel), 0.0f);
    onnx::NodeProto& n = w_.node("Conv", name, {one, w_.floats(name + ".weight", {filters, 1, kernel, kernel}, zeros)});
    set_ints(n, "kernel_shape", {kernel, kernel});
    set_ints(n, "strides", {stride, stride});
    set_ints(n, "pads", {pad, pad, pad, pad});
    return name;
  }

  // y = x w^T (+ bias), as Gemm with transB.
  std::string linear(const std::string& x, const std::string& name, const Linear& l) {
    std::vector<std::string> in = {x, param(name + ".weight")};
    if (l.bias) in.push_back(param(name + ".bias"));
    set_int(w_.node("Gemm", name, in), "transB", 1);
    return name;
  }

  // Batch norm with the running statistics, then its ReLU or RReLU if fused.
  std::string batch_norm(const std::string& x, const std::string& name, const BatchNorm& bn, int64_t rank) {
    onnx::NodeProto& n = w_.node("BatchNormalization", name,
                                 {x, param(name + ".weight"), param(name + ".bias"), param(name + ".running_mean"),
                                  param(name + ".running_var")});
    set_float(n, "epsilon", static_cast<float>(bn.config.eps));
    if (!bn.then) return name;
    return activation(name, name, *bn.then, rank);
  }

  // ReLU, and for an RReLU the product with the slopes ("<name>.slope"). An
  // activation added to engine/layers.h after these two needs its ONNX form
  // here; until then export says so (the default) rather than write a wrong graph.
  std::string activation(const std::string& x, const std::string& name, Activation act, int64_t rank) {
    switch (act) {
      case Activation::relu:
      case Activation::rrelu:
        break;
      default:
        fail("rotor export: the {} activation ({}) has no ONNX form yet (models/onnx_graph.cpp)",
             activation_name(act), name);
    }
    const std::string relu = w_.node("Relu", name + ".relu", {x}).output(0);
    if (act == Activation::relu) return relu;
    const int64_t c = at(name + ".slope").numel();
    const std::string slope = param(name + ".slope", rank == 4 ? Dims{c, 1, 1} : Dims{c});
    return w_.node("Mul", name + ".rrelu", {relu, slope}).output(0);
  }

  // x[:, channels] of a stream `width` wide (-1: not checked); x itself when
  // that is every channel.
  std::string select(const std::string& x, const std::string& name, const Channels& channels, int64_t width) {
    if (count(channels) == width) return x;
    set_int(w_.node("Gather", name, {x, w_.int64s(name + ".index", {count(channels)}, channels)}), "axis", 1);
    return name;
  }

  // base + part, where part holds only the stream channels `channels`: part
  // gets one zero channel (Pad) and a Gather spreads it to the stream's
  // width, the zero channel going where the block writes nothing.
  std::string add_into(const std::string& base, const std::string& part, const std::string& name,
                       const Channels& channels, int64_t width) {
    if (count(channels) == width) return w_.node("Add", name, {part, base}).output(0);
    const std::string padded =
        w_.node("Pad", name + ".pad_one", {part, w_.shared_int64s("pad.one_channel_after", {0, 0, 0, 0, 0, 1, 0, 0})})
            .output(0);
    std::vector<int64_t> source(static_cast<size_t>(width), count(channels));
    for (size_t k = 0; k < channels.size(); ++k) source[static_cast<size_t>(channels[k])] = static_cast<int64_t>(k);
    onnx::NodeProto& spread =
        w_.node("Gather", name + ".spread", {padded, w_.int64s(name + ".spread.index", {width}, source)});
    set_int(spread, "axis", 1);
    return w_.node("Add", name, {base, spread.output(0)}).output(0);
  }

  // Option A: every stride-th row and column, zero channels around.
  std::string shortcut_a(const std::string& x, const std::string& name, int64_t c_in, int64_t c_out, int64_t stride) {
    std::string y = x;
    if (stride != 1) {
      const int64_t end = std::numeric_limits<int64_t>::max();
      y = w_.node("Slice", name + ".subsample",
                  {x, w_.shared_int64s("slice.hw.starts", {0, 0}), w_.shared_int64s("slice.hw.ends", {end, end}),
                   w_.shared_int64s("slice.hw.axes", {2, 3}),
                   w_.shared_int64s(fmt::format("slice.hw.steps{}", stride), {stride, stride})})
              .output(0);
    }
    if (c_out == c_in) return y;
    const int64_t front = (c_out - c_in) / 2, back = c_out - c_in - front;
    return w_.node("Pad", name, {y, w_.int64s(name + ".pads", {8}, {0, front, 0, 0, 0, back, 0, 0})}).output(0);
  }

  // (N, C, H, W) -> (N, C) -> classifier.
  std::string head(const std::string& x, const Linear& fc) {
    const std::string pooled = w_.node("GlobalAveragePool", "pool", {x}).output(0);
    set_int(w_.node("Flatten", "flatten", {pooled}), "axis", 1);
    return linear("flatten", "fc", fc);
  }

  // Rotor's eval-mode batch-norm shift beta - mean * gamma / sqrt(var + eps)
  // (in double, as kernels/cpu/channel_stats.h computes it).
  std::vector<float> bn_shift(const std::string& name, double eps) const {
    const Tensor &g = at(name + ".weight"), &b = at(name + ".bias"), &m = at(name + ".running_mean"),
                 &v = at(name + ".running_var");
    std::vector<float> shift(static_cast<size_t>(g.numel()));
    for (int64_t c = 0; c < g.numel(); ++c) {
      const double scale = g.f32()[c] / std::sqrt(static_cast<double>(v.f32()[c]) + eps);
      shift[c] = static_cast<float>(b.f32()[c] - m.f32()[c] * scale);
    }
    return shift;
  }

 private:
  const Tensor& at(const std::string& name) const {
    const auto it = tensors_.find(name);
    ROTOR_CHECK(it != tensors_.end(), "onnx export: the model has no tensor '{}'", name);
    return it->second;
  }

  // Rotor's tensor `name` as an initializer of that name, in `shape`
  // (default: its own).
  std::string param(const std::string& name, Dims shape = {}) {
    const Tensor& t = at(name);
    if (shape.empty()) shape = t.shape();
    return w_.floats(name, shape, std::vector<float>(t.f32(), t.f32() + t.numel()));
  }

  GraphWriter w_;
  std::map<std::string, Tensor> tensors_;
};

std::string emit_fcnn(Exporter& e, const Fcnn& m, const std::string& x) {
  set_int(e.writer().node("Flatten", "flatten_image", {x}), "axis", 1);
  const std::string h = e.batch_norm(e.linear("flatten_image", "fc1", m.fc1()), "bn1", m.bn1(), 2);
  return e.linear(h, "fc2", m.fc2());
}

std::string emit_resnet(Exporter& e, ResNet& m, const std::string& x) {
  std::string h = e.batch_norm(e.conv(x, "stem_conv", m.stem_conv), "stem_bn", m.stem_bn, 4);
  const ModelSpec& spec = m.spec();
  const std::vector<BlockLive> live =
      spec.live.is_null() ? std::vector<BlockLive>{} : parse_block_live(spec.live, m.blocks.size(), true);
  for (size_t b = 0; b < m.blocks.size(); ++b) {
    const BasicBlock& blk = *m.blocks[b];
    const std::string& n = m.block_names[b];
    const BlockLive l = live.empty() ? BlockLive{all_of(blk.in), all_of(blk.out), all_of(blk.out)} : live[b];
    const std::string shortcut =
        (blk.stride != 1 || blk.in != blk.out) ? e.shortcut_a(h, n + ".shortcut", blk.in, blk.out, blk.stride) : h;
    std::string sum;
    if (l.out.empty()) {
      sum = shortcut;  // no conv2 filter survives: the branch adds nothing
    } else if (l.mid.empty()) {
      // conv2 has no inputs left and computes zeros: the branch is bn2's shift.
      const std::vector<float> shift = e.bn_shift(n + ".bn2", blk.bn2.config.eps);
      std::vector<float> wide(static_cast<size_t>(blk.out), 0.0f);
      for (size_t k = 0; k < l.out.size(); ++k) wide[static_cast<size_t>(l.out[k])] = shift[k];
      sum = e.writer()
                .node("Add", n + ".add", {shortcut, e.writer().floats(n + ".bn2.shift", {1, blk.out, 1, 1}, wide)})
                .output(0);
    } else {
      const std::string c1 = l.in.empty() ? e.zero_conv(h, n + ".conv1", count(l.mid), 3, blk.conv1.stride, 1)
                                          : e.conv(e.select(h, n + ".select", l.in, blk.in), n + ".conv1", blk.conv1);
      const std::string branch = e.batch_norm(e.conv(e.batch_norm(c1, n + ".bn1", blk.bn1, 4), n + ".conv2", blk.conv2),
                                              n + ".bn2", blk.bn2, 4);
      sum = e.add_into(shortcut, branch, n + ".add", l.out, blk.out);
    }
    h = e.activation(sum, n + ".act", blk.act.kind, 4);
  }
  return e.head(h, m.fc);
}

std::string emit_wide_resnet(Exporter& e, WideResNet& m, const std::string& x) {
  std::string h = e.conv(x, "stem_conv", m.stem_conv);
  const ModelSpec& spec = m.spec();
  const std::vector<BlockLive> live =
      spec.live.is_null() ? std::vector<BlockLive>{} : parse_block_live(spec.live, m.blocks.size(), false);
  for (size_t b = 0; b < m.blocks.size(); ++b) {
    const WideBlock& blk = *m.blocks[b];
    const std::string& n = m.block_names[b];
    const BlockLive l = live.empty() ? BlockLive{all_of(blk.in), all_of(blk.out), {}} : live[b];
    // o: the block's BN+activation over the stream channels it still reads
    // (none left: o is empty and whatever reads it computes zeros).
    const std::string o =
        l.in.empty() ? "" : e.batch_norm(e.select(h, n + ".select", l.in, blk.in), n + ".bn1", blk.bn1, 4);
    std::string shortcut = h;
    if (blk.shortcut) shortcut = o.empty() ? "" : e.conv(o, n + ".shortcut", *blk.shortcut);
    std::string branch;
    if (!l.mid.empty()) {
      const std::string c1 = o.empty() ? e.zero_conv(h, n + ".conv1", count(l.mid), 3, blk.conv1.stride, 1)
                                       : e.conv(o, n + ".conv1", blk.conv1);
      branch = e.conv(e.batch_norm(c1, n + ".bn2", blk.bn2, 4), n + ".conv2", blk.conv2);  // dropout: none in eval
    }
    if (!branch.empty() && !shortcut.empty())
      h = e.writer().node("Add", n + ".add", {branch, shortcut}).output(0);
    else if (!branch.empty() || !shortcut.empty())
      h = branch.empty() ? shortcut : branch;  // the other term is zero
    else
      h = e.zero_conv(h, n + ".shortcut", blk.out, 1, blk.shortcut->stride, 0);
  }
  return e.head(e.batch_norm(h, "final_bn", m.final_bn, 4), m.fc);
}

void set_tensor_type(onnx::ValueInfoProto& v, const std::string& name, const std::vector<std::string>& symbolic,
                     const Dims& dims) {
  v.set_name(name);
  onnx::TypeProto_Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t i = 0; i < dims.size(); ++i) {
    onnx::TensorShapeProto_Dimension& d = *t.mutable_shape()->add_dim();
    if (i < symbolic.size() && !symbolic[i].empty())
      d.set_dim_param(symbolic[i]);
    else
      d.set_dim_value(dims[i]);
  }
}

}  // namespace

onnx::ModelProto onnx_model(Context& ctx, Model& model) {
  const ModelSpec& spec = model.spec();
  onnx::ModelProto proto;
  proto.set_ir_version(7);  // the IR of opset 13 (ONNX 1.8), so older runtimes read it too
  proto.set_producer_name("rotor");
  proto.set_producer_version(ROTOR_VERSION_TEXT);
  proto.set_doc_string(spec.describe());
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(onnx_opset);
  onnx::StringStringEntryProto& meta = *proto.add_metadata_props();
  meta.set_key("rotor.spec");
  meta.set_value(spec.to_json().dump());

  onnx::GraphProto& g = *proto.mutable_graph();
  g.set_name(spec.arch);
  set_tensor_type(*g.add_input(), onnx_input_name, {"N"}, {0, spec.in_channels, spec.height, spec.width});
  set_tensor_type(*g.add_output(), onnx_output_name, {"N"}, {0, spec.classes});

  Exporter e(ctx, model, g);
  const std::string x = e.normalise(spec, onnx_input_name);
  std::string logits;
  if (auto* m = dynamic_cast<Fcnn*>(&model))
    logits = emit_fcnn(e, *m, x);
  else if (auto* m = dynamic_cast<ResNet*>(&model))
    logits = emit_resnet(e, *m, x);
  else if (auto* m = dynamic_cast<WideResNet*>(&model))
    logits = emit_wide_resnet(e, *m, x);
  else
    fail("onnx export: no export rule for {}", spec.arch);
  // The classifier's output value is the graph's output.
  for (onnx::NodeProto& n : *g.mutable_node())
    for (std::string& out : *n.mutable_output())
      if (out == logits) out = onnx_output_name;
  return proto;
}

}  // namespace rotor
