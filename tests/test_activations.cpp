// Every activation of the table (engine/layers.cpp, activation_info) works
// everywhere an activation is chosen: named and parsed (--act, model files),
// built into every architecture (fused into batch norm or after it), trained
// one step, saved and loaded, and named in the cost rows. A new activation is
// covered here without a line of its own.
#include <catch2/catch.hpp>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("every activation is named, parsed and listed once", "[activations]") {
  const std::vector<Activation> all = all_activations();
  REQUIRE(all.size() >= 2);
  for (Activation a : all) {
    INFO(activation_name(a));
    CHECK(parse_activation(activation_name(a)) == a);
    CHECK(activation_choices().find(activation_name(a)) != std::string::npos);
  }
  CHECK(activation_choices().rfind("relu|rrelu", 0) == 0);  // in declaration order, '|' between
  CHECK_THROWS_WITH(parse_activation("tanh"),
                    Catch::Contains("unknown activation 'tanh'") && Catch::Contains(activation_choices()));
}

TEST_CASE("every activation builds every architecture, trains a step and round-trips a model file",
          "[activations][models][files]") {
  for (Activation act : all_activations()) {
    const ActivationInfo info = activation_info(act);
    for (const std::string arch : {"fcnn-16", "resnet8", "wrn-10-1"}) {
      INFO(arch << " with " << info.name);
      Context ctx;
      ModelSpec spec;
      spec.arch = arch;
      spec.act = act;
      spec.in_channels = arch == "fcnn-16" ? 1 : 3;
      spec.height = spec.width = 8;
      spec.classes = 3;
      auto model = build_model(ctx, spec);
      CHECK(model->named_slopes().empty() == !info.has_slope);

      Tensor x = Tensor::empty(ctx, {2, spec.in_channels, 8, 8});
      for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = static_cast<float>((i * 37) % 11) / 5.0f - 1.0f;
      Tensor labels = Tensor::empty(ctx, {2}, DType::i32);
      labels.data<int32_t>()[0] = 0;
      labels.data<int32_t>()[1] = 2;
      {
        Graph g(ctx, true);
        const Var loss = softmax_cross_entropy(g, model->forward(g, make_var(x)), labels);
        g.backward(loss);
        CHECK(std::isfinite(loss->value.f32()[0]));
        for (auto& [name, p] : model->named_parameters()) {
          INFO(name);
          CHECK(p->var->grad.defined());  // every parameter, the slopes too, got a gradient
        }
      }

      const std::string path = temp_dir("activations") + "/" + arch + "-" + info.name + ".rotor";
      save_model_file(ctx, path, *model, Json::object());
      auto loaded = load_model_file(ctx, path);
      CHECK(loaded->spec().act == act);
      Graph g1(ctx, false), g2(ctx, false);
      CHECK(host_values(ctx, model->forward(g1, make_var(x))->value) ==
            host_values(ctx, loaded->forward(g2, make_var(x))->value));

      bool named = false;
      for (const LayerCost& row : model->layer_costs()) named |= row.shape.find(info.name) != std::string::npos;
      CHECK(named);
    }
  }
}
