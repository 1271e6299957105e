// SimSiam and Barlow Twins losses on tensors whose values are computed by hand, a finite-difference
// check of Barlow Twins' gradient, and the weighted kNN against a brute-force loop on real MNIST.
#include <algorithm>
#include <map>

#include "plugin_test_util.hpp"

using namespace iclr;

TEST(SimSiam, LossIsMinusHalfTheTwoCosinesAndZGetsNoGradient) {
    // cos(p1, z2) = cos([1, 0], [1, 1]) = 1/sqrt(2); cos(p2, z1) = cos([0, 1], [2, 0]) = 0.
    auto p1 = torch::tensor({{1.0, 0.0}}, torch::kFloat64).requires_grad_(true);
    auto p2 = torch::tensor({{0.0, 1.0}}, torch::kFloat64).requires_grad_(true);
    auto z1 = torch::tensor({{2.0, 0.0}}, torch::kFloat64).requires_grad_(true);
    auto z2 = torch::tensor({{1.0, 1.0}}, torch::kFloat64).requires_grad_(true);
    auto loss = simsiam_loss(p1, p2, z1, z2);
    EXPECT_NEAR(loss.item<double>(), -0.5 / std::sqrt(2.0), 1e-12);
    loss.backward();
    // The stop-gradient: the projections receive nothing through this loss.
    EXPECT_FALSE(z1.grad().defined() && z1.grad().abs().sum().item<double>() != 0.0);
    EXPECT_FALSE(z2.grad().defined() && z2.grad().abs().sum().item<double>() != 0.0);
    // d/dp1 of -1/2 cos(p1, z2) at p1 = [1, 0], z2 = [1, 1]: -1/2 (z2/|z2| - cos * p1/|p1|) / |p1|.
    EXPECT_NEAR(p1.grad()[0][0].item<double>(), -0.5 * (1.0 / std::sqrt(2.0) - 1.0 / std::sqrt(2.0)), 1e-12);
    EXPECT_NEAR(p1.grad()[0][1].item<double>(), -0.5 / std::sqrt(2.0), 1e-12);
    // Batch mean: two identical rows give the same loss.
    auto twice = simsiam_loss(torch::cat({p1, p1}), torch::cat({p2, p2}), torch::cat({z1, z1}), torch::cat({z2, z2}));
    EXPECT_NEAR(twice.item<double>(), loss.item<double>(), 1e-12);
}

TEST(BarlowTwins, CrossCorrelationTermsByHand) {
    // Per dimension over the batch: z1 -> [[-1, 1], [1, -1]], z2 -> [[-1, -1], [1, 1]] after
    // normalisation (eps 0 here), so C = z1n^T z2n / 2 = [[1, 1], [-1, -1]]:
    // on-diagonal (1 - 1)^2 + (1 + 1)^2 = 4, off-diagonal 1^2 + (-1)^2 = 2.
    auto z1 = torch::tensor({{1.0, 2.0}, {3.0, 0.0}}, torch::kFloat64);
    auto z2 = torch::tensor({{0.0, 0.0}, {2.0, 4.0}}, torch::kFloat64);
    auto t = barlow_twins_loss(z1, z2, 5e-3, 0.0);
    EXPECT_NEAR(t.on_diagonal.item<double>(), 4.0, 1e-12);
    EXPECT_NEAR(t.off_diagonal.item<double>(), 2.0, 1e-12);
    EXPECT_NEAR(t.loss.item<double>(), 4.01, 1e-12);
    // With BatchNorm's eps 1e-5 the normalised values shrink by sqrt(var / (var + eps)).
    EXPECT_NEAR(barlow_twins_loss(z1, z2).loss.item<double>(), 4.01, 1e-4);
    // Identical, decorrelated views: C = I, loss 0.
    auto eye = torch::tensor({{1.0, 1.0}, {-1.0, 1.0}, {1.0, -1.0}, {-1.0, -1.0}}, torch::kFloat64);
    EXPECT_NEAR(barlow_twins_loss(eye, eye, 5e-3, 0.0).loss.item<double>(), 0.0, 1e-12);
}

TEST(BarlowTwins, GradientMatchesFiniteDifferences) {
    torch::manual_seed(3);
    auto z1 = torch::randn({6, 3}, torch::kFloat64).requires_grad_(true);
    auto z2 = torch::randn({6, 3}, torch::kFloat64);
    barlow_twins_loss(z1, z2).loss.backward();
    auto g = z1.grad().clone();
    torch::NoGradGuard no_grad;
    const double h = 1e-6;
    for (int64_t i = 0; i < 6; ++i)
        for (int64_t j = 0; j < 3; ++j) {
            auto plus = z1.detach().clone(), minus = z1.detach().clone();
            plus[i][j] += h;
            minus[i][j] -= h;
            double fd =
                (barlow_twins_loss(plus, z2).loss.item<double>() - barlow_twins_loss(minus, z2).loss.item<double>()) /
                (2 * h);
            EXPECT_NEAR(g[i][j].item<double>(), fd, 1e-6) << i << "," << j;
        }
}

// The weighted kNN vote against a loop that does it one query at a time, on real MNIST pixels.
TEST(Knn, MatchesABruteForceLoopOnRealImages) {
    test::TestContext ctx;
    auto b =
        test::make_plugin<Dataset>("datasets", "mnist", ctx,
                                   {{"tasks", "[[3, 5, 8]]"}, {"train_per_class", "100"}, {"test_per_class", "20"}})
            ->load(ctx);
    auto bank = b.tasks[0].train.x.flatten(1).to(torch::kFloat64),
         queries = b.tasks[0].test.x.flatten(1).to(torch::kFloat64);
    auto labels = b.tasks[0].train.y;
    const int64_t k = 20;
    const double tau = 0.1;
    auto fast = knn_predict(queries, bank, labels, 10, k, tau);
    int64_t agree = 0, correct = 0;
    for (int64_t q = 0; q < queries.size(0); ++q) {
        std::vector<std::pair<double, int64_t>> sims;
        auto qn = queries[q] / queries[q].norm();
        for (int64_t i = 0; i < bank.size(0); ++i)
            sims.emplace_back((qn * (bank[i] / bank[i].norm())).sum().item<double>(), labels[i].item<int64_t>());
        std::sort(sims.begin(), sims.end(), [](auto& a, auto& c) { return a.first > c.first; });
        std::map<int64_t, double> votes;
        for (int64_t i = 0; i < k; ++i)
            votes[sims[size_t(i)].second] += std::exp(sims[size_t(i)].first / tau);
        int64_t best =
            std::max_element(votes.begin(), votes.end(), [](auto& a, auto& c) { return a.second < c.second; })->first;
        agree += best == fast[q].item<int64_t>();
        correct += best == b.tasks[0].test.y[q].item<int64_t>();
    }
    EXPECT_EQ(agree, queries.size(0));
    EXPECT_GT(double(correct) / double(queries.size(0)), 0.8); // raw pixels separate 3, 5, 8 well
}
