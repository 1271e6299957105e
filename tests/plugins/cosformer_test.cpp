// cosFormer attention (iclr/cosformer.hpp): a case computed by hand, the linear form against the
// explicit quadratic form (1e-5 in float, 1e-12 in double), and the `vit` model's cosformer option.
#include <cmath>

#include "iclr/cosformer.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

TEST(Cosformer, TwoTokensByHand) {
    // L = 2, d = 1: angles (π/2)(i / 2) = π/4 and π/2. q = [1, -1] -> ReLU [1, 0]; k = [2, 3]; v = [10, 20].
    auto q = torch::tensor({1.0, -1.0}, torch::kDouble).view({2, 1});
    auto k = torch::tensor({2.0, 3.0}, torch::kDouble).view({2, 1});
    auto v = torch::tensor({10.0, 20.0}, torch::kDouble).view({2, 1});
    // Row 1: s(1,1) = 1·2·cos 0 = 2, s(1,2) = 1·3·cos(π/4 − π/2) = 3/√2; row 2: ReLU(q) = 0, so the
    // weights are 0 and the denominator is clamped to eps: the output is 0.
    double s12 = 3.0 / std::sqrt(2.0);
    double row1 = (2.0 * 10.0 + s12 * 20.0) / (2.0 + s12);
    for (const auto& out : {cosformer_attention(q, k, v), cosformer_attention_quadratic(q, k, v)}) {
        EXPECT_NEAR(out[0][0].item<double>(), row1, 1e-12);
        EXPECT_NEAR(out[1][0].item<double>(), 0.0, 1e-12);
    }
}

TEST(Cosformer, LinearFormEqualsTheQuadraticForm) {
    torch::manual_seed(4);
    for (int64_t length : {1, 5, 49, 200}) {
        for (auto dtype : {torch::kFloat, torch::kDouble}) {
            auto opts = torch::TensorOptions().dtype(dtype);
            auto q = torch::randn({2, 3, length, 8}, opts), k = torch::randn({2, 3, length, 8}, opts),
                 v = torch::randn({2, 3, length, 8}, opts);
            auto lin = cosformer_attention(q, k, v), quad = cosformer_attention_quadratic(q, k, v);
            double gap = (lin - quad).abs().max().item<double>() / quad.abs().max().item<double>();
            EXPECT_LT(gap, dtype == torch::kFloat ? 1e-5 : 1e-12) << "L = " << length;
        }
    }
}

TEST(Cosformer, ReweightingIsLocal) {
    // With equal non-negative q and k the weights are cos(π/2 · (i − j)/L): the first token attends
    // more to its neighbour than to the last token, and every weight is non-negative.
    int64_t L = 16;
    auto a = cosformer_angles(L, torch::TensorOptions().dtype(torch::kDouble));
    auto w = torch::cos(a.unsqueeze(-1) - a.unsqueeze(0));
    EXPECT_GT(w[0][1].item<double>(), w[0][L - 1].item<double>());
    EXPECT_GE(w.min().item<double>(), 0.0);
    EXPECT_NEAR(w[0][0].item<double>(), 1.0, 1e-15);
}

TEST(Cosformer, VitOptionKeepsParametersAndTrains) {
    test::TestContext ctx;
    auto soft = test::make_plugin<Model>("models", "vit", ctx, {{"width", "32"}})->build({1, 28, 28}, ctx);
    auto cos = test::make_plugin<Model>("models", "vit", ctx, {{"width", "32"}, {"attention", "\"cosformer\""}})
                   ->build({1, 28, 28}, ctx);
    EXPECT_EQ(cos->param_count(), soft->param_count()); // no new parameters: only the kernel changes
    auto x = torch::randn({3, 1, 28, 28});
    auto f = cos->forward(x);
    EXPECT_EQ(f.sizes(), (std::vector<int64_t>{3, 32}));
    EXPECT_EQ(cos->internals().count("attention"), 0u); // never formed
    f.sum().backward();
    for (auto& p : cos->parameters())
        EXPECT_TRUE(p.grad().defined() && torch::isfinite(p.grad()).all().item<bool>());
}
