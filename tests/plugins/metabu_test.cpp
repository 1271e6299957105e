// MetaBu's pieces against answers known by hand: the Hungarian assignment against every
// permutation, Wasserstein distances of shifted clouds, the FGW loss's closed form under the
// official identity start and its gradient against finite differences, classical MDS recovering
// Euclidean distances, the official NDCG as neighbour overlap; psi finding the one informative
// feature among noise; the task family's draws; then the method end to end with its cache.
#include <algorithm>

#include "../../plugins/methods/metabu/config_grid.hpp"
#include "../../plugins/methods/metabu/meta_features.hpp"
#include "../../plugins/methods/metabu/recommend.hpp"
#include "benchmark_session.hpp"

using namespace iclr;

TEST(MetaBu, HungarianEqualsTheBestOfEveryPermutation) {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 10);
    for (int trial = 0; trial < 5; ++trial) {
        const size_t n = 6;
        std::vector<std::vector<double>> cost(n, std::vector<double>(n));
        for (auto& row : cost)
            for (auto& c : row)
                c = u(rng);
        std::vector<size_t> perm{0, 1, 2, 3, 4, 5};
        double best = 1e18;
        do {
            double s = 0;
            for (size_t i = 0; i < n; ++i)
                s += cost[i][perm[i]];
            best = std::min(best, s);
        } while (std::next_permutation(perm.begin(), perm.end()));
        EXPECT_NEAR(metabu::assignment_cost(cost), best, 1e-9);
    }
}

TEST(MetaBu, WassersteinOfPermutedAndShiftedClouds) {
    auto a = torch::tensor({{0.0, 0.0}, {1.0, 0.0}, {0.0, 2.0}}, torch::kDouble);
    EXPECT_NEAR(metabu::wasserstein(a, a.flip(0)), 0.0, 1e-12);
    // A translation by v: matching each point to its own image costs |v|^2 each, and no matching
    // is cheaper (the cross terms cancel in the sum).
    auto v = torch::tensor({{0.3, -0.4}}, torch::kDouble);
    EXPECT_NEAR(metabu::wasserstein(a, (a + v).flip(0)), 0.25, 1e-12);
    // Two points swapped across: {0, 1} vs {0.1, 0.9} on a line: (0.1^2 + 0.1^2) / 2.
    EXPECT_NEAR(metabu::wasserstein(torch::tensor({{0.0}, {1.0}}, torch::kDouble),
                                    torch::tensor({{0.9}, {0.1}}, torch::kDouble)),
                0.01, 1e-12);
}

TEST(MetaBu, FgwFromTheIdentityIsItsClosedForm) {
    torch::manual_seed(5);
    auto s = torch::randn({7, 2}, torch::kDouble), t = torch::randn({7, 2}, torch::kDouble);
    torch::Tensor coupling;
    double alpha = 0.3;
    double loss = metabu::fgw_loss(s, t, alpha, torch::eye(7), &coupling).item<double>();
    EXPECT_TRUE(torch::allclose(coupling, torch::eye(7, torch::kDouble) / 7.0, 1e-12, 1e-12));
    auto ds = metabu::sq_distances(s, s), dt = metabu::sq_distances(t, t);
    // The GW term under the identity coupling: each pair's distances compared directly.
    double gw = (ds - dt).pow(2).sum().item<double>() / 49.0;
    double w = (s - t).pow(2).sum().item<double>() / 7.0;
    EXPECT_NEAR(loss, alpha * gw + (1 - alpha) * w, 1e-9 * (1 + loss));
}

TEST(MetaBu, FgwGradientMatchesFiniteDifferences) {
    torch::manual_seed(6);
    auto x = torch::randn({6, 4}, torch::kDouble), t = torch::randn({6, 2}, torch::kDouble);
    auto psi = torch::randn({2, 4}, torch::kDouble).requires_grad_(true);
    auto f = [&](const torch::Tensor& p) { return metabu::fgw_loss(x.matmul(p.t()), t, 0.5, torch::eye(6)); };
    f(psi).backward();
    auto grad = psi.grad().clone();
    torch::NoGradGuard ng;
    const double h = 1e-6;
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 4; ++j) {
            auto up = psi.detach().clone(), down = psi.detach().clone();
            up[i][j] += h, down[i][j] -= h;
            double fd = (f(up).item<double>() - f(down).item<double>()) / (2 * h);
            EXPECT_NEAR(grad[i][j].item<double>(), fd, 1e-5 * (1 + std::abs(fd)));
        }
}

// The official update ends each round on the column scaling: the columns' marginals are exact, the
// rows' are whatever five sweeps reach.
TEST(MetaBu, FgwFromUniformEndsOnUniformColumns) {
    torch::manual_seed(7);
    auto s = torch::randn({5, 2}, torch::kDouble), t = torch::randn({5, 2}, torch::kDouble);
    torch::Tensor c;
    double loss = metabu::fgw_loss(s, t, 0.5, torch::full({5, 5}, 1.0 / 25), &c).item<double>();
    EXPECT_TRUE(torch::allclose(c.sum(0), torch::full({5}, 0.2, torch::kDouble), 1e-9, 1e-12));
    EXPECT_NEAR(c.sum().item<double>(), 1.0, 1e-9);
    EXPECT_FALSE(torch::allclose(c, torch::full({5, 5}, 0.04, torch::kDouble), 1e-3, 1e-4)); // it moved
    EXPECT_GT(loss, 0.0);
}

TEST(MetaBu, ClassicalMdsRecoversEuclideanDistances) {
    torch::manual_seed(8);
    auto p = torch::randn({9, 2}, torch::kDouble);
    auto d = torch::cdist(p, p);
    auto e = metabu::classical_mds(d, 2);
    EXPECT_TRUE(torch::allclose(torch::cdist(e, e), d, 1e-8, 1e-8));
}

TEST(MetaBu, NdcgIsTheOverlapOfTheNearestK) {
    // Row 0: true nearest two {0, 1}, predicted {0, 2} -> 1/2. Row 1: both {1, 3} -> 1. Mean 3/4.
    auto truth = torch::tensor({{0.0, 0.1, 0.5, 0.9}, {0.3, 0.0, 0.8, 0.2}}, torch::kDouble);
    auto pred = torch::tensor({{0.0, 0.7, 0.2, 0.9}, {0.9, 0.0, 0.8, 0.1}}, torch::kDouble);
    EXPECT_DOUBLE_EQ(metabu::neighbour_ndcg(pred, truth, 2), 0.75);
    EXPECT_DOUBLE_EQ(metabu::neighbour_ndcg(truth, truth, 2), 1.0);
}

TEST(MetaBu, PsiFindsTheOneInformativeFeature) {
    // 40 data sets; the oracle positions depend on feature 0 alone, five noise features hide it
    // from plain Euclidean neighbours. psi must lean on feature 0 and beat the raw space. With the
    // official patience of 10 it stops early (49 iterations here) part of the way; with 50 it gets
    // most of the way.
    auto gen = make_generator(9, 1);
    auto x = torch::randn({40, 6}, gen, torch::kFloat32);
    auto u = torch::stack({x.select(1, 0), x.select(1, 0).pow(2)}, 1);
    u = metabu::standardise(u, u);
    auto oracle = metabu::sq_distances(u, u);
    double raw = metabu::neighbour_ndcg(metabu::sq_distances(x, x), oracle, 10);
    for (int64_t patience : {10, 50}) {
        metabu::FitOptions o;
        o.patience = patience;
        auto fit = metabu::fit_psi(x, u, o, 4);
        auto z = x.matmul(fit.psi.t());
        double learned = metabu::neighbour_ndcg(metabu::sq_distances(z, z), oracle, 10);
        EXPECT_DOUBLE_EQ(learned, fit.ndcg); // the kept psi is the one scored
        EXPECT_GT(learned, raw + (patience == 10 ? 0.05 : 0.25)) << "learned " << learned << " raw " << raw;
        auto weight = fit.psi.abs().sum(0);
        EXPECT_EQ(weight.argmax().item<int64_t>(), 0);
    }
}

TEST(MetaBu, HandCraftedFeaturesOfAKnownSplit) {
    // Three classes, 10 / 10 / 20 examples, each class a constant image: perfectly separable.
    std::vector<torch::Tensor> xs;
    std::vector<int64_t> ys;
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < (c == 2 ? 20 : 10); ++i) {
            xs.push_back(torch::full({1, 28, 28}, double(c)));
            ys.push_back(c + 4);
        }
    auto f = metabu::hand_crafted({torch::stack(xs), torch::tensor(ys)});
    const auto& names = metabu::feature_names();
    auto at = [&](const char* n) { return f[size_t(std::find(names.begin(), names.end(), n) - names.begin())]; };
    EXPECT_NEAR(at("log_examples"), std::log(40.0), 1e-12);
    EXPECT_EQ(at("classes"), 3.0);
    double h = -(2 * 0.25 * std::log(0.25) + 0.5 * std::log(0.5)) / std::log(3.0);
    EXPECT_NEAR(at("class_entropy"), h, 1e-9);
    EXPECT_NEAR(at("pixel_mean"), (10 * 0 + 10 * 1 + 20 * 2) / 40.0, 1e-6);
    EXPECT_NEAR(at("background_share"), 0.25, 1e-9);
    EXPECT_NEAR(at("landmark_centroid"), 1.0, 1e-12);
    EXPECT_NEAR(at("landmark_1nn"), 1.0, 1e-12);
    EXPECT_NEAR(at("class_separation"), 0.0, 1e-9);
    EXPECT_EQ(f.size(), names.size());
}

TEST(MetaBu, ScoresRankTheTriedConfigurations) {
    metabu::Performance p{torch::tensor({{0.5, 0.9, 0.7, 0.9}, {0.8, 0.1, 0.6, 0.2}}, torch::kDouble)};
    EXPECT_EQ(p.rank(0, 1), 1);
    EXPECT_EQ(p.rank(0, 3), 1); // ties share the better rank
    EXPECT_EQ(p.rank(0, 2), 3);
    auto o = metabu::score(p, 1, {2, 3});
    EXPECT_EQ(o.rank, 2.0);
    EXPECT_NEAR(o.regret, 0.2, 1e-12);
    // Data set 1's best is config 0, data set 0's the first of its tied best (1).
    EXPECT_EQ(metabu::warm_start(p, {1, 0, 1}, 3), (std::vector<int64_t>{0, 1}));
    // Mean ranks 2.5, 2.5, 2.5, 2: config 3 first, then the first of the tied ones.
    EXPECT_EQ(metabu::global_best(p, {0, 1}, 2), (std::vector<int64_t>{3, 0}));
    // Neighbours by distance, as indices of the training data sets they name.
    EXPECT_EQ(metabu::nearest_by_distance(torch::tensor({0.5, 0.1, 0.9}), {7, 3, 5}), (std::vector<int64_t>{3, 7, 5}));
    EXPECT_EQ(metabu::nearest(torch::tensor({1.0, 0.0}), torch::tensor({{0.0, 0.0}, {1.0, 0.5}}), {4, 2}),
              (std::vector<int64_t>{2, 4}));
}

TEST(MetaBu, TaskFamilyDrawsWhatItsParametersSay) {
    test::TestContext ctx;
    auto load = [&] {
        return test::make_plugin<Dataset>("datasets", "task_family", ctx,
                                          {{"tasks", "12"},
                                           {"sizes", "[60, 200]"},
                                           {"classes", "[2, 4]"},
                                           {"imbalance", "[1, 4]"},
                                           {"label_noise", "[0.0, 0.5]"},
                                           {"test_per_class", "20"}})
            ->load(ctx);
    };
    auto b = load();
    ASSERT_EQ(b.tasks.size(), 12u);
    int noisy = 0;
    for (const auto& t : b.tasks) {
        int64_t k = int64_t(t.classes.size());
        EXPECT_TRUE(k == 2 || k == 4) << t.name;
        EXPECT_NEAR(double(t.train.size()), t.name.find("n=60 ") != std::string::npos ? 60 : 200, 3) << t.name;
        EXPECT_EQ(t.test.size(), 20 * k);
        auto allowed = torch::tensor(t.classes);
        EXPECT_TRUE(torch::isin(t.train.y, allowed).all().item<bool>());
        EXPECT_TRUE(torch::isin(t.test.y, allowed).all().item<bool>());
        bool fashion = t.name.find("fashion") != std::string::npos;
        EXPECT_EQ(t.classes[0] >= 10, fashion);
        auto clean = t.train.factors.at("clean_label");
        double flipped = (clean != t.train.y).to(torch::kDouble).mean().item<double>();
        double first = (clean == t.classes.front()).sum().item<double>();
        double last = (clean == t.classes.back()).sum().item<double>();
        // Imbalance 4: the first class has 4x the last one's examples (before label noise).
        if (t.name.find("imbalance=4") != std::string::npos) {
            EXPECT_NEAR(first / last, 4.0, 0.3) << t.name;
        } else {
            EXPECT_NEAR(first, last, 1.0) << t.name;
        }
        if (t.name.find("label_noise=0 ") != std::string::npos) {
            EXPECT_EQ(flipped, 0.0);
        } else {
            noisy += flipped > 0.2; // 0.5 of the labels redrawn from k classes: ~0.5 (k-1)/k change
        }
    }
    EXPECT_GT(noisy, 0);
    auto again = load();
    for (size_t t = 0; t < 12; ++t)
        EXPECT_TRUE(torch::equal(b.tasks[t].train.x, again.tasks[t].train.x) &&
                    torch::equal(b.tasks[t].train.y, again.tasks[t].train.y));
}

TEST(MetaBu, RunsEndToEndAndReusesItsMatrix) {
    auto cache = std::filesystem::temp_directory_path() / ("iclr-metabu-test-" + std::to_string(getpid()));
    std::vector<double> first, first_ranks;
    for (int pass = 0; pass < 2; ++pass) {
        test::TestContext ctx(cache);
        test::BenchmarkSession s(
            ctx, test::make_plugin<Dataset>("datasets", "task_family", ctx,
                                            {{"tasks", "8"}, {"sizes", "[40]"}, {"test_per_class", "10"}})
                     ->load(ctx));
        auto m = test::make_plugin<Method>("methods", "metabu", ctx,
                                           {{"grid_lr", "[0.01, 0.1]"},
                                            {"grid_width", "[0, 16]"},
                                            {"grid_weight_decay", "[0.0]"},
                                            {"epochs", "2"},
                                            {"top_l", "2"},
                                            {"folds", "2"},
                                            {"neighbours", "2"},
                                            {"ndcg_k", "3"}});
        m->run(s);
        auto acc = test::logged_values(ctx, "config_accuracy");
        ASSERT_EQ(acc.size(), 8u * 4u);
        for (double a : acc)
            EXPECT_TRUE(a >= 0 && a <= 1);
        auto ranks = test::logged_values(ctx, "task_rank_metabu");
        if (pass == 0) {
            first = acc, first_ranks = ranks;
        } else {
            EXPECT_EQ(acc, first);         // read back from the cache, bit for bit
            EXPECT_EQ(ranks, first_ranks); // and so are the features MetaBu's neighbours come from
        }
        EXPECT_EQ(ctx.attributes.at("cache_hit"), pass == 0 ? "0" : "1");
        for (const char* arm : {"metabu", "handcrafted", "random", "global", "oracle"}) {
            auto r = test::logged_values(ctx, std::string("rank_") + arm);
            ASSERT_EQ(r.size(), 1u) << arm;
            EXPECT_GE(r[0], 1.0);
            EXPECT_LE(r[0], 4.0);
            EXPECT_EQ(test::logged_values(ctx, std::string("task_rank_") + arm).size(), 8u);
        }
    }
    std::filesystem::remove_all(cache);
}
