// CUDA linear, optimizer, shortcut, softmax cross-entropy, count_correct,
// gather_batch and the channel-subset ops against their CPU twins.
#include <catch2/catch.hpp>

#include <cstring>

#include "kernels/augment.h"
#include "kernels/channel_select.h"
#include "kernels/linear.h"
#include "kernels/optimizer.h"
#include "kernels/shortcut.h"
#include "kernels/softmax_ce.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("gpu linear forward and backward", "[gpu][linear]") {
  Twins t;
  uint64_t seed = 300;
  for (const LinearShape& s : {LinearShape{3, 5, 7}, LinearShape{1, 1, 1}, LinearShape{128, 784, 500},
                               LinearShape{37, 500, 10}}) {
    INFO("n=" << s.n << " in=" << s.in << " out=" << s.out);
    Rng rng(++seed);
    const size_t nx = s.n * s.in, nw = s.out * s.in, ny = s.n * s.out;
    const auto x = uniform(rng, nx, -1, 1), w = uniform(rng, nw, -1, 1), b = uniform(rng, s.out, -1, 1),
               dy = uniform(rng, ny, -1, 1);
    Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w), b_dev = to_gpu(t.gpu, b), dy_dev = to_gpu(t.gpu, dy);
    for (bool with_bias : {true, false}) {
      std::vector<float> y(ny);
      Tensor y_dev = to_gpu(t.gpu, nans(ny));
      cpu::linear_forward<float>(t.cpu, s, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data());
      cuda::linear_forward(t.gpu, s, fp(x_dev), fp(w_dev), with_bias ? fp(b_dev) : nullptr, fp(y_dev));
      REQUIRE_TWIN(with_bias ? "linear y (bias)" : "linear y", from_gpu<float>(t.gpu, y_dev), y, reduction_tol);
    }
    require_grad_modes(
        t, "linear dx", nx,
        [&](GradMode m, float* d) { cpu::linear_backward_data<float>(t.cpu, s, dy.data(), w.data(), d, m); },
        [&](GradMode m, float* d) { cuda::linear_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), d, m); },
        reduction_tol);
    const auto dw0 = uniform(rng, nw, -1, 1), db0 = uniform(rng, s.out, -1, 1);
    std::vector<float> dw = dw0, db = db0;
    Tensor dw_dev = to_gpu(t.gpu, dw0), db_dev = to_gpu(t.gpu, db0);
    cpu::linear_backward_weight<float>(t.cpu, s, x.data(), dy.data(), dw.data(), db.data());
    cuda::linear_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev), fp(db_dev));
    REQUIRE_TWIN("linear dw", from_gpu<float>(t.gpu, dw_dev), dw, reduction_tol);
    REQUIRE_TWIN("linear dbias", from_gpu<float>(t.gpu, db_dev), db, reduction_tol);
    // Without the bias gradient.
    cpu::linear_backward_weight<float>(t.cpu, s, x.data(), dy.data(), dw.data(), nullptr);
    cuda::linear_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev), nullptr);
    REQUIRE_TWIN("linear dw (no dbias)", from_gpu<float>(t.gpu, dw_dev), dw, reduction_tol);
  }
}

namespace {

// A group of parameter tensors with gradients and state, on both sides.
struct Group {
  std::vector<std::vector<float>> p, g, s1, s2;      // host
  std::vector<Tensor> p_dev, g_dev, s1_dev, s2_dev;  // device copies

  Group(Context& gpu, Rng& rng, const std::vector<int64_t>& sizes) {
    for (int64_t n : sizes) {
      p.push_back(uniform(rng, n, -1, 1));
      g.push_back(uniform(rng, n, -1, 1));
      s1.push_back(uniform(rng, n, -0.1, 0.1));
      s2.push_back(uniform(rng, n, 0, 0.01));
      p_dev.push_back(to_gpu(gpu, p.back()));
      g_dev.push_back(to_gpu(gpu, g.back()));
      s1_dev.push_back(to_gpu(gpu, s1.back()));
      s2_dev.push_back(to_gpu(gpu, s2.back()));
    }
  }
  // New gradients, the same on both sides (the updates zeroed the last ones).
  void new_gradients(Context& gpu, Rng& rng) {
    for (size_t i = 0; i < g.size(); ++i) {
      g[i] = uniform(rng, static_cast<int64_t>(g[i].size()), -1, 1);
      g_dev[i] = to_gpu(gpu, g[i]);
    }
  }
  std::vector<ParamSlot<float>> host_slots(bool state) {
    std::vector<ParamSlot<float>> v;
    for (size_t i = 0; i < p.size(); ++i)
      v.push_back({p[i].data(), g[i].data(), state ? s1[i].data() : nullptr, state ? s2[i].data() : nullptr,
                   static_cast<int64_t>(p[i].size())});
    return v;
  }
  std::vector<ParamSlot<float>> device_slots(bool state) {
    std::vector<ParamSlot<float>> v;
    for (size_t i = 0; i < p.size(); ++i)
      v.push_back({fp(p_dev[i]), fp(g_dev[i]), state ? fp(s1_dev[i]) : nullptr, state ? fp(s2_dev[i]) : nullptr,
                   static_cast<int64_t>(p[i].size())});
    return v;
  }
  void require_equal(Context& gpu, bool state, bool adam) {
    for (size_t i = 0; i < p.size(); ++i) {
      INFO("tensor " << i << " of " << p.size() << " (" << p[i].size() << " values)");
      // The kernels repeat the CPU's operations exactly; allow a rounding.
      REQUIRE_TWIN("param", from_gpu<float>(gpu, p_dev[i]), p[i], 1e-6);
      if (state) REQUIRE_TWIN("state1", from_gpu<float>(gpu, s1_dev[i]), s1[i], 1e-6);
      if (state && adam) REQUIRE_TWIN("state2", from_gpu<float>(gpu, s2_dev[i]), s2[i], 1e-6);
      // Both updates left every gradient they read at zero.
      const std::vector<float> zeros(g[i].size(), 0.0f);
      REQUIRE(g[i] == zeros);
      REQUIRE(from_gpu<float>(gpu, g_dev[i]) == zeros);
    }
  }
};

const std::vector<int64_t> group_sizes = {1, 7, 1000, 1024, 1025, 4096, 33, 0, 36864};

std::vector<int64_t> many_sizes() {  // more tensors than one launch takes
  std::vector<int64_t> v;
  for (int i = 0; i < 70; ++i) v.push_back(1 + (i * 37) % 300);
  return v;
}

}  // namespace

TEST_CASE("gpu sgd_update equals the CPU and zeroes the gradients", "[gpu][optimizer][sanitize]") {
  Twins t;
  Rng rng(400);
  for (const auto& sizes : {group_sizes, many_sizes()}) {
    for (int variant = 0; variant < 3; ++variant) {
      INFO("variant " << variant << ", " << sizes.size() << " tensors");
      Group grp(t.gpu, rng, sizes);
      SgdHyper h;
      h.lr = 0.05;
      h.weight_decay = 5e-4;
      h.momentum = variant == 2 ? 0.0 : 0.9;
      h.nesterov = variant == 1;
      const bool state = h.momentum != 0;
      for (int step = 0; step < 3; ++step) {
        h.first_step = step == 0;
        if (step > 0) grp.new_gradients(t.gpu, rng);
        auto hs = grp.host_slots(state), ds = grp.device_slots(state);
        cpu::sgd_update<float>(t.cpu, hs.data(), static_cast<int>(hs.size()), h);
        cuda::sgd_update(t.gpu, ds.data(), static_cast<int>(ds.size()), h);
      }
      grp.require_equal(t.gpu, state, false);
    }
  }
}

TEST_CASE("gpu adam_update equals the CPU and zeroes the gradients", "[gpu][optimizer][sanitize]") {
  Twins t;
  Rng rng(401);
  for (const auto& sizes : {group_sizes, many_sizes()}) {
    INFO(sizes.size() << " tensors");
    Group grp(t.gpu, rng, sizes);
    AdamHyper h;
    h.lr = 1e-3;
    h.weight_decay = 1e-4;
    for (int step = 1; step <= 3; ++step) {
      h.step = step;
      if (step > 1) grp.new_gradients(t.gpu, rng);
      auto hs = grp.host_slots(true), ds = grp.device_slots(true);
      cpu::adam_update<float>(t.cpu, hs.data(), static_cast<int>(hs.size()), h);
      cuda::adam_update(t.gpu, ds.data(), static_cast<int>(ds.size()), h);
    }
    grp.require_equal(t.gpu, true, true);
  }
}

TEST_CASE("gpu option-A shortcut", "[gpu][shortcut]") {
  Twins t;
  uint64_t seed = 500;
  // {n, c_in, h, w, c_out, stride}
  for (const ShortcutShape& s : {ShortcutShape{2, 3, 7, 5, 8, 2}, ShortcutShape{2, 16, 32, 32, 32, 2},
                                 ShortcutShape{1, 4, 6, 6, 4, 1}, ShortcutShape{3, 5, 9, 9, 6, 3}}) {
    INFO("n=" << s.n << " c_in=" << s.c_in << " " << s.h << "x" << s.w << " c_out=" << s.c_out << " stride="
              << s.stride);
    Rng rng(++seed);
    const size_t nx = s.n * s.c_in * s.h * s.w, ny = s.n * s.c_out * s.h_out() * s.w_out();
    const auto x = uniform(rng, nx, -1, 1), dy = uniform(rng, ny, -1, 1);
    Tensor x_dev = to_gpu(t.gpu, x), dy_dev = to_gpu(t.gpu, dy), y_dev = to_gpu(t.gpu, nans(ny));
    std::vector<float> y(ny);
    cpu::shortcut_a_forward<float>(t.cpu, s, x.data(), y.data());
    cuda::shortcut_a_forward(t.gpu, s, fp(x_dev), fp(y_dev));
    REQUIRE_TWIN("shortcut y", from_gpu<float>(t.gpu, y_dev), y, 0.0);
    require_grad_modes(
        t, "shortcut dx", nx, [&](GradMode m, float* d) { cpu::shortcut_a_backward<float>(t.cpu, s, dy.data(), d, m); },
        [&](GradMode m, float* d) { cuda::shortcut_a_backward(t.gpu, s, fp(dy_dev), d, m); }, 0.0);
  }
}

TEST_CASE("gpu softmax cross-entropy and count_correct", "[gpu][softmax_ce][sanitize]") {
  Twins t;
  uint64_t seed = 600;
  for (const auto& [n, k] : std::vector<std::pair<int64_t, int64_t>>{{1, 3}, {37, 10}, {300, 100}, {5, 1000}, {128, 10}}) {
    INFO("n=" << n << " k=" << k);
    Rng rng(++seed);
    auto logits = uniform(rng, n * k, -4, 4);
    std::vector<int32_t> labels(n);
    for (auto& l : labels) l = static_cast<int32_t>(rng.below(static_cast<uint64_t>(k)));
    Tensor logits_dev = to_gpu(t.gpu, logits), labels_dev = to_gpu(t.gpu, labels);

    std::vector<float> loss(1);
    Tensor loss_dev = to_gpu(t.gpu, nans(1));
    cpu::softmax_cross_entropy_forward<float>(t.cpu, n, k, logits.data(), labels.data(), loss.data());
    cuda::softmax_cross_entropy_forward(t.gpu, n, k, fp(logits_dev), labels_dev.data<int32_t>(), fp(loss_dev));
    REQUIRE_TWIN("loss", from_gpu<float>(t.gpu, loss_dev), loss, 1e-5);

    const std::vector<float> upstream = {0.7f};
    Tensor upstream_dev = to_gpu(t.gpu, upstream);
    require_grad_modes(
        t, "dlogits", n * k,
        [&](GradMode m, float* d) {
          cpu::softmax_cross_entropy_backward<float>(t.cpu, n, k, logits.data(), labels.data(), upstream.data(), d, m);
        },
        [&](GradMode m, float* d) {
          cuda::softmax_cross_entropy_backward(t.gpu, n, k, fp(logits_dev), labels_dev.data<int32_t>(),
                                               fp(upstream_dev), d, m);
        },
        elementwise_tol);

    // Ties: integer logits in a small range, so rows often have several
    // maxima; the first one counts, as std::max_element.
    for (float& v : logits) v = static_cast<float>(rng.below(3));
    Tensor ties_dev = to_gpu(t.gpu, logits);
    std::vector<int64_t> correct = {5};
    Tensor correct_dev = to_gpu(t.gpu, correct);
    cpu::count_correct<float>(t.cpu, n, k, logits.data(), labels.data(), correct.data());
    cuda::count_correct(t.gpu, n, k, fp(ties_dev), labels_dev.data<int32_t>(), correct_dev.data<int64_t>());
    REQUIRE(from_gpu<int64_t>(t.gpu, correct_dev) == correct);
  }
}

TEST_CASE("gpu gather_batch is bit-identical to the CPU", "[gpu][augment]") {
  Twins t;
  struct Case {
    int64_t c, h, w;
    int pad;
    bool flip;
  };
  uint64_t seed = 700;
  for (const Case& k : {Case{3, 32, 32, 4, true}, Case{1, 28, 28, 0, false}, Case{3, 9, 7, 2, true},
                        Case{4, 5, 5, 1, false}}) {
    INFO("c=" << k.c << " " << k.h << "x" << k.w << " pad=" << k.pad << " flip=" << k.flip);
    Rng rng(++seed);
    const int64_t all = 50, batch = 17, image = k.c * k.h * k.w;
    std::vector<uint8_t> images(all * image);
    for (auto& p : images) p = static_cast<uint8_t>(rng.below(256));
    std::vector<int32_t> labels(all), indices(batch);
    for (auto& l : labels) l = static_cast<int32_t>(rng.below(10));
    for (auto& i : indices) i = static_cast<int32_t>(rng.below(all));
    AugmentSpec spec;
    spec.c = k.c;
    spec.h = k.h;
    spec.w = k.w;
    spec.pad = k.pad;
    spec.flip = k.flip;
    spec.seed = 1234 + seed;
    spec.epoch = 3;
    for (int c = 0; c < k.c; ++c) {
      spec.mean[c] = static_cast<float>(100 + 10 * c);
      spec.inv_std[c] = static_cast<float>(1.0 / (50 + c));
    }
    std::vector<float> out(batch * image);
    std::vector<int32_t> out_labels(batch);
    cpu::gather_batch(t.cpu, images.data(), labels.data(), indices.data(), batch, spec, out.data(), out_labels.data());
    Tensor images_dev = to_gpu(t.gpu, images), labels_dev = to_gpu(t.gpu, labels), indices_dev = to_gpu(t.gpu, indices),
           out_dev = to_gpu(t.gpu, nans(batch * image)),
           out_labels_dev = to_gpu(t.gpu, std::vector<int32_t>(batch, -1));
    cuda::gather_batch(t.gpu, images_dev.data<uint8_t>(), labels_dev.data<int32_t>(), indices_dev.data<int32_t>(),
                       batch, spec, fp(out_dev), out_labels_dev.data<int32_t>());
    const std::vector<float> got = from_gpu<float>(t.gpu, out_dev);
    REQUIRE(std::memcmp(got.data(), out.data(), out.size() * sizeof(float)) == 0);
    REQUIRE(from_gpu<int32_t>(t.gpu, out_labels_dev) == out_labels);
  }
}

TEST_CASE("gpu channel subsets: gather and its backward and add_into", "[gpu][channel_select]") {
  Twins t;
  uint64_t seed = 800;
  // {n, c, hw, k} and the chosen channels (distinct, unordered).
  const std::vector<std::pair<ChannelSubset, std::vector<int32_t>>> cases = {
      {{2, 5, 7, 3}, {4, 0, 2}}, {{3, 16, 64, 16}, {}}, {{1, 8, 1, 0}, {}}, {{4, 10, 9, 1}, {7}}};
  for (auto [s, index] : cases) {
    if (index.empty())
      for (int64_t i = 0; i < s.k; ++i) index.push_back(static_cast<int32_t>(s.k - 1 - i));  // reversed identity
    INFO("n=" << s.n << " c=" << s.c << " hw=" << s.hw << " k=" << s.k);
    Rng rng(++seed);
    const size_t full = s.n * s.c * s.hw, sub = s.n * s.k * s.hw;
    const auto x = uniform(rng, full, -1, 1), part = uniform(rng, sub, -1, 1), dy = uniform(rng, sub, -1, 1);
    Tensor x_dev = to_gpu(t.gpu, x), part_dev = to_gpu(t.gpu, part), dy_dev = to_gpu(t.gpu, dy),
           index_dev = to_gpu(t.gpu, index.empty() ? std::vector<int32_t>{0} : index);
    const int32_t* gidx = index_dev.data<int32_t>();

    std::vector<float> y(sub);
    Tensor y_dev = to_gpu(t.gpu, nans(sub));
    cpu::channel_gather<float>(t.cpu, s, x.data(), index.data(), y.data());
    cuda::channel_gather(t.gpu, s, fp(x_dev), gidx, fp(y_dev));
    REQUIRE_TWIN("gather y", from_gpu<float>(t.gpu, y_dev), y, 0.0);

    require_grad_modes(
        t, "gather dx", full,
        [&](GradMode m, float* d) { cpu::channel_gather_backward<float>(t.cpu, s, dy.data(), index.data(), d, m); },
        [&](GradMode m, float* d) { cuda::channel_gather_backward(t.gpu, s, fp(dy_dev), gidx, d, m); }, 0.0);

    std::vector<float> sum(full);
    Tensor sum_dev = to_gpu(t.gpu, nans(full));
    cpu::channel_add_into<float>(t.cpu, s, x.data(), part.data(), index.data(), sum.data());
    cuda::channel_add_into(t.gpu, s, fp(x_dev), fp(part_dev), gidx, fp(sum_dev));
    REQUIRE_TWIN("add_into y", from_gpu<float>(t.gpu, sum_dev), sum, 0.0);
  }
}
