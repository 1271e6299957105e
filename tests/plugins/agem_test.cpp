// A-GEM: the projection on hand-computed vectors, and on real Split MNIST every projected
// gradient has a non-negative dot product with the memory's gradient.
#include "plugin_test_util.hpp"

using namespace iclr;

TEST(Agem, ProjectionRemovesTheConflictAndKeepsAnAgreeingGradient) {
    // g = [1, 0], g_ref = [-1, 1]: g.g_ref = -1, |g_ref|^2 = 2, so g - (-1/2) g_ref = [0.5, 0.5].
    auto g = torch::tensor({1.0, 0.0}, torch::kFloat64), ref = torch::tensor({-1.0, 1.0}, torch::kFloat64);
    auto p = agem_project(g, ref);
    EXPECT_NEAR(p[0].item<double>(), 0.5, 1e-12);
    EXPECT_NEAR(p[1].item<double>(), 0.5, 1e-12);
    EXPECT_NEAR(torch::dot(p, ref).item<double>(), 0.0, 1e-12);
    auto agree = torch::tensor({1.0, 1.0}, torch::kFloat64);
    EXPECT_TRUE(torch::equal(agem_project(agree, ref), agree)); // g.g_ref = 0: not a conflict
    EXPECT_TRUE(torch::equal(agem_project(g, torch::zeros(2, torch::kFloat64)), g));
}

TEST(Agem, FlatGradientsRoundTrip) {
    auto a = torch::zeros({2, 3}, torch::requires_grad()), b = torch::zeros({4}, torch::requires_grad());
    (a.sum() * 2 + (b * torch::arange(4)).sum()).backward();
    auto g = flat_grad({a, b});
    ASSERT_EQ(g.numel(), 10);
    EXPECT_DOUBLE_EQ(g[0].item<double>(), 2.0);
    EXPECT_DOUBLE_EQ(g[9].item<double>(), 3.0);
    set_flat_grad({a, b}, torch::arange(10).to(torch::kFloat32));
    EXPECT_DOUBLE_EQ(a.grad()[1][2].item<double>(), 5.0);
    EXPECT_DOUBLE_EQ(b.grad()[0].item<double>(), 6.0);
}

TEST(Agem, EveryProjectedStepOnRealDataKeepsTheMemoryLossFromRising) {
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    // One shared head: task 2/3's gradients push 0/1's logits down, so conflicts are common.
    auto m = test::make_plugin<Method>(
        "methods", "agem", ctx,
        {{"head", "\"class\""}, {"lr", "0.05"}, {"epochs", "2"}, {"buffer_size", "100"}, {"log_every", "1"}});
    m->run(s);
    int64_t dots = 0;
    double projected = -1;
    for (const auto& r : ctx.logged) {
        if (r.key == "agem_dot_after") {
            ++dots;
            EXPECT_GE(r.value, -1e-4) << "step " << r.step; // zero after a projection, up to float32 rounding
        }
        if (r.key == "agem_projected_steps") projected = r.value;
    }
    EXPECT_GT(dots, 10);     // task 2/3's steps, each with a memory gradient
    EXPECT_GT(projected, 0); // and some of them conflicted: the property above was exercised
}
