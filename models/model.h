// Model: a network built by name from a ModelSpec, and the spec itself.
//
// The spec is everything needed to rebuild and use the network: architecture
// name, activation, input geometry, class count and input normalisation
// (from the data set), and, for a pruned network, which channels survive.
// It travels in every model file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/layers.h"

namespace rotor {

struct ModelSpec {
  std::string arch = "fcnn";  // fcnn[-H], resnet<6n+2>, wrn-<6n+4>-<k>
  Activation act = Activation::rrelu;
  int64_t in_channels = 1, height = 28, width = 28;
  int64_t classes = 10;
  double dropout = 0;  // wide ResNets: dropout between the convs of a block
  Json live;           // pruned networks: surviving channels per layer (null = full)
  // Input normalisation learned from the training set (per channel), so a
  // model file can be used on the same images from any source.
  std::vector<double> mean, std;
  std::vector<std::string> class_names;  // optional

  Json to_json() const;
  static ModelSpec from_json(const Json& j);  // throws naming the bad field
  std::string describe() const;               // "resnet20 (rrelu), 3x32x32 -> 10"
};

// One row of the paper's accounting: conv params c_out*c_in*k^2 and FLOPs
// 2*c_in*k^2*h_out*w_out*c_out; batch norm 2*C params; a residual addition
// c*h*w FLOPs; a dense layer in*out (+out bias) params and 2*in*out FLOPs.
// Slopes are listed on their own and not counted as parameters (the paper's
// ResNet-20 count of 269,722 leaves them out).
struct LayerCost {
  std::string name;  // module path, e.g. "stage1.block0.conv1"
  std::string kind;  // conv, bn, add, linear
  std::string shape;  // e.g. "16->32 3x3 /2 @16x16"
  int64_t params = 0, flops = 0, slopes = 0;
  int64_t filters = 0;  // output channels of a conv or linear layer
};

class Model : public Module {
 public:
  explicit Model(ModelSpec spec) : spec_(std::move(spec)) {}
  const ModelSpec& spec() const { return spec_; }
  // x (N, C, H, W) normalised images -> logits (N, classes).
  virtual Var forward(Graph& g, const Var& x) = 0;

  // Name of the child module that is the classifier ("fc"), for training
  // the slopes and the classifier alone.
  virtual std::string classifier_name() const = 0;

  // Params and FLOPs of every layer for one input image (spec's size).
  virtual std::vector<LayerCost> layer_costs() const = 0;

  // The RReLU slope parameters in network order, with their names.
  std::vector<std::pair<std::string, Parameter*>> named_slopes();

 private:
  ModelSpec spec_;
};

// Builds the network the spec names, initialised from ctx.rng() (Kaiming
// weights, slopes 1). Throws naming the spec field that is wrong.
std::unique_ptr<Model> build_model(Context& ctx, const ModelSpec& spec);

// Throws the error build_model would give when `arch` is not a valid
// architecture name (so a command can refuse it before loading any data).
void check_arch(const std::string& arch);

}  // namespace rotor
