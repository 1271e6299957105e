// ViTGAN's stabilisers against closed forms: the spectral norm of a known matrix, ISN leaving a layer
// as initialised and SN giving it norm one, L2 attention with tied projections as written by hand,
// the Fréchet distance of Gaussians whose answer is known; then the method end to end on MNIST.
#include "../../plugins/methods/vitgan/stabilisers.hpp"
#include "benchmark_session.hpp"

using namespace iclr;

TEST(VitGan, SpectralNormOfAKnownMatrix) {
    // Q diag(3, 2, 0.5) Rᵀ with orthogonal Q, R: sigma = 3.
    torch::manual_seed(10);
    auto q = std::get<0>(torch::linalg_qr(torch::randn({4, 4}, torch::kDouble)));
    auto r = std::get<0>(torch::linalg_qr(torch::randn({3, 3}, torch::kDouble)));
    auto s = torch::zeros({4, 3}, torch::kDouble);
    s[0][0] = 3, s[1][1] = 2, s[2][2] = 0.5;
    EXPECT_NEAR(vitgan::spectral_norm(q.matmul(s).matmul(r.t())), 3.0, 1e-9);
}

TEST(VitGan, IsnStartsAsInitialisedAndSnAtNormOne) {
    torch::manual_seed(11);
    vitgan::NormLinear isn(16, 8, vitgan::Norm::Improved), sn(16, 8, vitgan::Norm::Spectral),
        none(16, 8, vitgan::Norm::None);
    isn->eval(), sn->eval();
    // After the warm-up power iterations sigma is exact to float precision.
    EXPECT_TRUE(torch::allclose(isn->effective(), isn->weight, 1e-4, 1e-5));
    EXPECT_NEAR(vitgan::spectral_norm(sn->effective().detach()), 1.0, 1e-4);
    EXPECT_TRUE(torch::equal(none->effective(), none->weight));
    // Scaling the raw weight changes nothing the layer applies: the normalisation divides it out.
    torch::NoGradGuard ng;
    auto before = isn->effective().clone();
    isn->weight.mul_(5.0);
    EXPECT_TRUE(torch::allclose(isn->effective(), before, 1e-4, 1e-5));
}

TEST(VitGan, L2AttentionTiesQueryAndKeyAndUsesNegativeSquaredDistances) {
    torch::manual_seed(12);
    vitgan::Attention l2(8, 2, true, vitgan::Norm::None), dot(8, 2, false, vitgan::Norm::None);
    EXPECT_LT(l2->parameters().size(), dot->parameters().size()); // no key projection
    auto x = torch::randn({1, 5, 8});
    l2->forward(x);
    auto q = torch::nn::functional::linear(x, l2->q->weight, l2->q->bias).view({1, 5, 2, 4}).transpose(1, 2);
    for (int64_t h = 0; h < 2; ++h)
        for (int64_t i = 0; i < 5; ++i) {
            auto d2 = (q[0][h][i].unsqueeze(0) - q[0][h]).pow(2).sum(1); // ‖q_i − q_j‖² over j
            auto expected = torch::softmax(-d2 / 2.0, 0);                // √d_h = 2
            EXPECT_TRUE(torch::allclose(l2->weights[0][h][i], expected, 1e-5, 1e-6)) << h << " " << i;
        }
    // Tied: each token attends to itself most (distance 0 is the largest logit).
    EXPECT_TRUE(torch::equal(l2->weights[0].argmax(-1), torch::arange(5).expand({2, 5})));
}

TEST(VitGan, FrechetDistanceOfGaussiansWithAKnownAnswer) {
    // Diagonal covariances commute: FD = ‖m1 − m2‖² + Σ (√a_i − √b_i)².
    auto m1 = torch::tensor({0.0, 1.0, 2.0}, torch::kDouble), m2 = torch::tensor({1.0, 1.0, 0.0}, torch::kDouble);
    auto a = torch::tensor({1.0, 4.0, 9.0}, torch::kDouble), b = torch::tensor({4.0, 4.0, 1.0}, torch::kDouble);
    EXPECT_NEAR(vitgan::frechet_distance(m1, torch::diag(a), m2, torch::diag(b)), 5.0 + 1.0 + 0.0 + 4.0, 1e-9);
    // A rotation of both changes nothing; identical Gaussians are at distance 0.
    torch::manual_seed(13);
    auto r = std::get<0>(torch::linalg_qr(torch::randn({3, 3}, torch::kDouble)));
    EXPECT_NEAR(vitgan::frechet_distance(r.mv(m1), r.matmul(torch::diag(a)).matmul(r.t()), r.mv(m2),
                                         r.matmul(torch::diag(b)).matmul(r.t())),
                10.0, 1e-8);
    auto c = torch::randn({3, 3}, torch::kDouble);
    auto s = c.matmul(c.t()) + torch::eye(3, torch::kDouble);
    EXPECT_NEAR(vitgan::frechet_distance(m1, s, m1, s), 0.0, 1e-8);
}

TEST(VitGan, TrainsEitherWayAndReportsItsStabilityScores) {
    auto cache = std::filesystem::temp_directory_path() / ("iclr-vitgan-test-" + std::to_string(getpid()));
    for (const char* arm : {"isn", "none"}) {
        test::TestContext ctx(cache);
        test::BenchmarkSession s(ctx, test::make_plugin<Dataset>("datasets", "mnist", ctx,
                                                                 {{"train_per_class", "10"}, {"test_per_class", "5"}})
                                          ->load(ctx));
        auto m = test::make_plugin<Method>("methods", "vitgan", ctx,
                                           {{"spectral_norm", std::string("\"") + arm + "\""},
                                            {"width", "16"},
                                            {"depth", "1"},
                                            {"steps", "6"},
                                            {"batch_size", "8"},
                                            {"fd_images", "40"},
                                            {"log_every", "3"}});
        m->run(s);
        EXPECT_EQ(test::logged_values(ctx, "d_loss").size(), 2u);
        ASSERT_EQ(test::logged_values(ctx, "collapsed").size(), 1u);
        ASSERT_EQ(test::logged_values(ctx, "frechet_distance").size(), 1u);
        EXPECT_GT(test::logged_values(ctx, "frechet_distance")[0], 0.0);
        EXPECT_GT(test::logged_values(ctx, "d_grad_norm_max")[0], 0.0);
        EXPECT_GE(test::logged_values(ctx, "d_grad_norm_max")[0], test::logged_values(ctx, "d_grad_norm_mean")[0]);
        // The feature classifier is trained once and then read from the cache.
        EXPECT_EQ(ctx.attributes.at("cache_hit"), std::string(arm) == "isn" ? "0" : "1");
    }
    std::filesystem::remove_all(cache);
}
