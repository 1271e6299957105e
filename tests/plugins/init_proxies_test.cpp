// As-ViT's training-free proxies (plugins/metrics/common/init_proxies.hpp) against closed forms: the
// NTK of a linear backbone is C X Xᵀ, and a linear map stretches the unit circle into an ellipse
// whose length is an elliptic integral of its two singular values; then the two metric plugins on a
// real ViT at initialisation.
#include "../../plugins/metrics/common/init_proxies.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;
using namespace iclr::test;

namespace {

// f(x) = W x + b over the flattened input: C features.
struct LinearBackbone : Backbone {
    LinearBackbone(int64_t d, int64_t c) : lin(register_module("lin", torch::nn::Linear(d, c))), c_(c) {}
    torch::Tensor forward(const torch::Tensor& x) override { return lin(x.flatten(1)); }
    int64_t feature_dim() const override { return c_; }
    torch::nn::Linear lin;
    int64_t c_;
};

// Arc length of the ellipse t -> A (cos t, sin t), A = W U, over the unit circle's length: by
// numerical quadrature of |A (-sin t, cos t)| on a fine grid (independent of the polyline code).
double ellipse_ratio(const torch::Tensor& A) {
    auto t = torch::linspace(0, 2 * M_PI, 200001, torch::kDouble).slice(0, 0, -1);
    auto v = torch::stack({-t.sin(), t.cos()}, 1).matmul(A.t());
    return v.norm(2, {1}).mean().item<double>(); // (1/2π) ∫ |x'(t)| dt
}

} // namespace

TEST(InitProxies, TheNtkOfALinearBackboneIsCTimesXXt) {
    torch::manual_seed(1);
    LinearBackbone net(20, 3);
    auto x = torch::randn({6, 20});
    auto ntk = proxies::empirical_ntk(net, x);
    auto X = x.to(torch::kDouble);
    auto expected = 3.0 * X.matmul(X.t()); // d(sum_k w_k x)/dW = 1_C x^T; biases are not weights
    EXPECT_TRUE(torch::allclose(ntk, expected, 1e-9, 1e-9)) << ntk << expected;
    auto eig = torch::linalg_eigvalsh(X.matmul(X.t()));
    EXPECT_NEAR(proxies::ntk_condition(net, x), (eig[-1] / eig[0]).item<double>(),
                1e-6 * (eig[-1] / eig[0]).item<double>());
    for (auto& p : net.parameters())
        EXPECT_FALSE(p.grad().defined()); // the proxy leaves no gradient for the optimiser to add
}

TEST(InitProxies, ASingularKernelIsReportedAsIllConditioned) {
    torch::manual_seed(2);
    LinearBackbone net(4, 2);
    auto x = torch::randn({6, 4}); // 6 examples in 4 dimensions: X Xᵀ has rank 4
    // Its two null eigenvalues come out at rounding level, or negative (then κ = inf).
    EXPECT_GT(proxies::ntk_condition(net, x), 1e8);
}

TEST(InitProxies, ALinearMapStretchesTheCircleIntoAnEllipseOfKnownLength) {
    torch::manual_seed(3);
    std::vector<int64_t> shape{1, 6, 6};
    LinearBackbone net(36, 5);
    {
        torch::NoGradGuard g;
        net.lin->bias.zero_(); // a translation moves the curve but does not change its length
    }
    auto gen = make_generator(7);
    double ours = proxies::length_distortion(net, shape, 2000, gen);
    auto gen2 = make_generator(7);
    auto U = proxies::circle_plane(36, gen2);
    auto A = net.lin->weight.detach().to(torch::kDouble).matmul(U); // [5, 2]
    EXPECT_NEAR(ours, ellipse_ratio(A), 1e-4 * ellipse_ratio(A));
    // A scaled identity stretches every length by its scale.
    LinearBackbone id(36, 36);
    {
        torch::NoGradGuard g;
        id.lin->weight.copy_(2.5 * torch::eye(36));
        id.lin->bias.zero_();
    }
    auto gen3 = make_generator(9);
    EXPECT_NEAR(proxies::length_distortion(id, shape, 500, gen3), 2.5, 1e-5);
}

// The plugins on a real ViT at initialisation, with real MNIST images: one row each at Step 0,
// nothing at task ends; the ViT's kernel is well defined (finite κ > 1) and it stretches circles.
TEST(InitProxies, ThePluginsLogOnceAtStepZeroOnARealVit) {
    TestContext ctx;
    SplitMnist s(ctx, "vit", {{"width", "16"}, {"depth", "1"}, {"heads", "2"}, {"patch", "7"}});
    auto backbone = s.new_backbone();
    struct Probe : Learner {
        explicit Probe(std::shared_ptr<Backbone> b) : b_(std::move(b)) {}
        Backbone& backbone() override { return *b_; }
        torch::Tensor logits(const torch::Tensor& x, int64_t) override { return b_->forward(x); }
        std::vector<torch::Tensor> trainable() override { return b_->parameters(); }
        std::shared_ptr<Backbone> b_;
    } learner(backbone);
    auto ntk = make_plugin<Metric>("metrics", "ntk_condition", ctx, {{"batch", "16"}});
    auto len = make_plugin<Metric>("metrics", "length_distortion", ctx, {{"points", "64"}});
    for (auto* m : {ntk.get(), len.get()}) {
        m->on_event({EventKind::TaskEnd, 0, 5}, learner, s.benchmark(), ctx); // after training: ignored
        m->on_event({EventKind::Step, 0, 0}, learner, s.benchmark(), ctx);
        m->on_event({EventKind::Step, 0, 0}, learner, s.benchmark(), ctx); // once only
    }
    ASSERT_EQ(ctx.logged.size(), 2u);
    EXPECT_EQ(ctx.logged[0].key, "ntk_condition");
    EXPECT_GT(ctx.logged[0].value, 1.0);
    EXPECT_TRUE(std::isfinite(ctx.logged[0].value));
    EXPECT_EQ(ctx.logged[1].key, "length_distortion");
    EXPECT_GT(ctx.logged[1].value, 0.0);
    EXPECT_TRUE(backbone->is_training()); // the mode it had before
}

// On a ViT the proxies read the mean patch token before the final LayerNorm (As-ViT's
// forward_features(x)[1]): the normalised CLS features sum to zero at initialisation (gain 1, bias
// 0), so a kernel of their sum would be the LayerNorm gain's alone.
TEST(InitProxies, AVitIsMeasuredBeforeItsFinalLayerNorm) {
    TestContext ctx;
    SplitMnist s(ctx, "vit", {{"width", "16"}, {"depth", "1"}, {"heads", "2"}, {"patch", "7"}});
    auto vit = s.new_backbone();
    auto x = s.benchmark().tasks[0].train.x.slice(0, 0, 4);
    auto features = vit->forward(x);
    EXPECT_LT(features.sum(1).abs().max().item<double>(), 1e-4); // the degenerate sum
    auto pre = vit->internals().at("prenorm_patch_tokens");
    EXPECT_EQ(pre.sizes(), (std::vector<int64_t>{4, 16, 16})); // 16 patches of 7x7, CLS left out
    EXPECT_TRUE(torch::allclose(proxies::proxy_output(*vit, x), pre.mean(1)));
    EXPECT_GT(proxies::proxy_output(*vit, x).sum(1).abs().min().item<double>(), 1e-3);
}
