// The continual methods built on iclr/continual.hpp, on real Split MNIST: a regulariser that is
// off leaves finetune's trajectory bit for bit and one that is on changes it after the first task;
// PNN's earlier columns are frozen; LUMP's lambda follows Beta(0.4, 0.4); the linear probe and the
// affine augmentation on known inputs.
#include <cmath>
#include <random>

#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// The same optimiser settings for every method compared (finetune's and the others' defaults differ).
std::map<std::string, std::string> with_shared(std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> p{
        {"lr", "0.05"}, {"momentum", "0.9"}, {"epochs", "2"}, {"batch_size", "16"}, {"log_every", "5"}};
    for (auto& [k, v] : extra)
        p[k] = v;
    return p;
}

std::vector<std::vector<torch::Tensor>> trajectory(const std::string& method,
                                                   const std::map<std::string, std::string>& extra,
                                                   test::TestContext* out = nullptr) {
    test::TestContext own;
    test::TestContext& ctx = out ? *out : own;
    test::SplitMnist s(ctx);
    test::make_plugin<Method>("methods", method, ctx, with_shared(extra))->run(s);
    EXPECT_EQ(s.snapshots.size(), 2u) << method;
    return s.snapshots;
}

double first_logged(const test::TestContext& ctx, const std::string& key) {
    auto v = test::logged_values(ctx, key);
    return v.empty() ? std::nan("") : v.front();
}

// A regulariser switched off is finetune, bit for bit; switched on, it changes the trajectory.
// A penalty anchored at the end of a task (SI, EWC) leaves the first task alone: nothing to
// protect yet. DER replays from its second step on, inside the first task too (mammoth does).
void expect_regulariser(const std::string& method, const std::string& knob, const std::string& on,
                        const std::string& penalty_key, bool first_task_untouched = true) {
    auto base = trajectory("finetune", {});
    auto off = trajectory(method, {{knob, "0"}});
    test::TestContext ctx;
    auto with = trajectory(method, {{knob, on}}, &ctx);
    EXPECT_TRUE(test::same_tensors(base[0], off[0]) && test::same_tensors(base[1], off[1]))
        << method << " with " << knob << " = 0";
    EXPECT_EQ(test::same_tensors(off[0], with[0]), first_task_untouched) << method << " after task 1";
    EXPECT_FALSE(test::same_tensors(off[1], with[1]))
        << method << " with " << knob << " = " << on << " left task 2 unchanged";
    if (!penalty_key.empty()) {
        EXPECT_GT(first_logged(ctx, penalty_key), 0.0) << penalty_key;
    }
}

} // namespace

TEST(ContinualMethods, SiOnChangesTheTrajectoryAndOffIsFinetune) {
    expect_regulariser("si", "c", "10.0", "si_penalty");
}

TEST(ContinualMethods, OnlineEwcOnChangesTheTrajectoryAndOffIsFinetune) {
    expect_regulariser("ewc", "lambda", "100.0", "ewc_penalty");
}

TEST(ContinualMethods, DerOnChangesTheTrajectoryAndOffIsFinetune) {
    expect_regulariser("der", "alpha", "0.2", "", false);
}

TEST(ContinualMethods, DerPlusPlusNeedsLabels) {
    test::TestContext ctx;
    try {
        test::make_plugin<Method>("methods", "der", ctx, {{"beta", "1.0"}, {"objective", "\"simsiam\""}});
        FAIL() << "der++ with an SSL objective was accepted";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("beta > 0 (DER++) replays labels"), std::string::npos) << e.what();
    }
}

TEST(ContinualMethods, PnnFreezesEarlierColumns) {
    test::TestContext ctx;
    // A ResNet has BatchNorm: a frozen column must not move its running statistics either.
    test::SplitMnist s(ctx, "resnet", {{"width", "4"}, {"depth", "1"}});
    s.metrics.push_back(test::make_plugin<Metric>("metrics", "knn_accuracy", ctx, {{"k", "20"}}));
    auto probe = s.benchmark().tasks[0].test.x.slice(0, 0, 32);
    std::vector<torch::Tensor> column1, column1_copy;
    torch::Tensor features_after_1;
    s.on_task_end = [&](const Event& e, Learner& learner) {
        auto* tf = dynamic_cast<TaskFeatures*>(&learner);
        ASSERT_NE(tf, nullptr);
        auto f = eval_features(learner, probe, 0);
        if (e.task == 0) {
            for (auto& p : learner.backbone().parameters())
                column1.push_back(p), column1_copy.push_back(p.detach().clone());
            for (auto& b : learner.backbone().buffers())
                column1.push_back(b), column1_copy.push_back(b.detach().clone());
            features_after_1 = f;
            return;
        }
        for (size_t i = 0; i < column1.size(); ++i)
            EXPECT_TRUE(torch::equal(column1[i], column1_copy[i])) << "column 1 tensor " << i << " moved";
        EXPECT_TRUE(torch::equal(f, features_after_1)) << "task 1's features changed";
        for (auto& t : learner.trainable())
            for (auto& c : column1)
                EXPECT_NE(t.data_ptr(), c.data_ptr()) << "a column-1 tensor is still trainable";
    };
    test::make_plugin<Method>("methods", "pnn", ctx, with_shared({}))->run(s);
    EXPECT_EQ(column1.size(), column1_copy.size());
    EXPECT_GT(column1.size(), 4u);
    EXPECT_EQ(first_logged(ctx, "knn_forgetting"), 0.0);
    EXPECT_GT(first_logged(ctx, "pnn_backbone_params"), 0.0);
}

// The regularized incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes 6.4).
double incomplete_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
    double front =
        std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(1 - x)) / a;
    double f = 1, c = 1, d = 0;
    for (int i = 0; i <= 400; ++i) {
        int m = i / 2;
        double num = i == 0       ? 1
                     : i % 2 == 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
                                  : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + num * d;
        d = std::abs(d) < 1e-30 ? 1e-30 : d;
        d = 1 / d;
        c = 1 + num / c;
        c = std::abs(c) < 1e-30 ? 1e-30 : c;
        f *= c * d;
        if (std::abs(1 - c * d) < 1e-12) break;
    }
    return front * (f - 1);
}

TEST(ContinualMethods, LumpLambdaFollowsBeta04) {
    EXPECT_NEAR(incomplete_beta(0.4, 0.4, 0.5), 0.5, 1e-9); // symmetric
    EXPECT_NEAR(incomplete_beta(1, 1, 0.3), 0.3, 1e-9);     // Beta(1, 1) is uniform
    std::mt19937_64 rng(7);
    std::vector<double> draws;
    for (int i = 0; i < 10000; ++i)
        draws.push_back(sample_beta(0.4, 0.4, rng));
    double mean = 0, var = 0;
    for (double d : draws)
        mean += d / 10000.0;
    for (double d : draws)
        var += (d - mean) * (d - mean) / 9999.0;
    EXPECT_NEAR(mean, 0.5, 0.012);                // sd of the mean: sqrt(0.139 / 1e4) = 0.0037
    EXPECT_NEAR(var, 0.16 / (0.64 * 1.8), 0.006); // a b / ((a + b)^2 (a + b + 1)) = 0.1389
    std::sort(draws.begin(), draws.end());
    double ks = 0;
    for (size_t i = 0; i < draws.size(); ++i) {
        double f = incomplete_beta(0.4, 0.4, draws[i]);
        ks = std::max({ks, std::abs(f - double(i) / 1e4), std::abs(f - double(i + 1) / 1e4)});
    }
    EXPECT_LT(ks, 1.63 / 100.0); // Kolmogorov-Smirnov at the 1% level; a uniform lambda gives ~0.1
}

TEST(ContinualMethods, LumpMixesOnRealDataAndRefusesSupervised) {
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    test::make_plugin<Method>("methods", "lump", ctx, with_shared({{"log_every", "1"}, {"proj_dim", "32"}}))->run(s);
    int lambdas = 0;
    for (const auto& r : ctx.logged)
        if (r.key == "lump_lambda") {
            ++lambdas;
            EXPECT_GT(r.value, 0.0);
            EXPECT_LT(r.value, 1.0);
        }
    EXPECT_GT(lambdas, 10); // every step after the first has a buffer to mix with
    EXPECT_THROW(test::make_plugin<Method>("methods", "lump", ctx, {{"objective", "\"supervised\""}}),
                 std::runtime_error);
}

TEST(ContinualMethods, SslObjectiveHasNoLogitsButKnnWorks) {
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    s.metrics.push_back(test::make_plugin<Metric>("metrics", "knn_accuracy", ctx, {{"k", "20"}}));
    bool threw = false;
    s.on_task_end = [&](const Event&, Learner& learner) {
        try {
            learner.logits(s.benchmark().tasks[0].test.x.slice(0, 0, 4), 0);
        } catch (const PluginError& e) {
            threw = std::string(e.what()).find("evaluate it with knn_accuracy or linear_probe") != std::string::npos;
        }
    };
    test::make_plugin<Method>("methods", "finetune", ctx,
                              with_shared({{"objective", "\"barlow\""}, {"proj_dim", "32"}}))
        ->run(s);
    EXPECT_TRUE(threw);
    double acc = first_logged(ctx, "knn_avg_accuracy");
    EXPECT_GT(acc, 0.8) << "two-digit tasks by kNN on a representation trained without labels";
    EXPECT_LE(acc, 1.0);
}

TEST(ContinualMethods, LinearProbeSeparatesWhatIsSeparableAndNotNoise) {
    torch::manual_seed(3);
    auto make = [](int64_t n, bool noise) {
        auto x = torch::randn({n, 1, 1, 4});
        x.select(3, 0).add_(torch::sign(x.select(3, 0)) * 0.3); // a margin around x0 = 0
        auto y = noise ? torch::randint(0, 2, {n}, torch::kLong) : (x.select(3, 0).flatten() > 0).to(torch::kLong);
        return Split{x, y};
    };
    test::FlatLearner l(4);
    EXPECT_EQ(linear_probe_accuracy(l, make(300, false), make(400, false), 3, {0, 1}), 1.0);
    double noise = linear_probe_accuracy(l, make(300, true), make(400, true), 3, {0, 1});
    EXPECT_GT(noise, 0.35);
    EXPECT_LT(noise, 0.65);
}

TEST(ContinualMethods, AffineAugmentationIdentityAndSeeded) {
    auto x = torch::rand({3, 1, 28, 28});
    auto g = make_generator(1);
    auto id = random_affine(0, 0, 1, 1)(x, g);
    EXPECT_TRUE(torch::allclose(id, x, 1e-5, 1e-5));
    auto g1 = make_generator(5), g2 = make_generator(5);
    auto a = random_affine(15, 0.1, 0.9, 1.1, 10), b = random_affine(15, 0.1, 0.9, 1.1, 10);
    auto ya = a(x, g1), yb = b(x, g2);
    EXPECT_TRUE(torch::equal(ya, yb));
    EXPECT_FALSE(torch::allclose(ya, x, 1e-3, 1e-3));
    // A disc centred in the image is (nearly) unchanged by rotation alone, a corner square is not.
    auto yy = torch::arange(28).to(torch::kFloat).view({28, 1}) - 13.5, xx = yy.view({1, 28});
    auto disc = ((yy.pow(2) + xx.pow(2)) < 64).to(torch::kFloat).view({1, 1, 28, 28});
    auto g3 = make_generator(9);
    auto rotated = random_affine(180, 0, 1, 1)(disc.repeat({8, 1, 1, 1}), g3);
    EXPECT_LT((rotated - disc).abs().mean().item<double>(), 0.02);
    auto corner = torch::zeros({1, 1, 28, 28});
    corner.slice(2, 2, 10).slice(3, 2, 10).fill_(1);
    auto g4 = make_generator(9);
    EXPECT_GT((random_affine(180, 0, 1, 1)(corner.repeat({8, 1, 1, 1}), g4) - corner).abs().mean().item<double>(),
              0.05);
}

TEST(ContinualMethods, AnSslObjectiveSkipsALastBatchOfOne) {
    // 200 training images per task in batches of 199: the last batch has one image, which the SSL
    // heads' BatchNorm cannot normalise (it threw before the skip).
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    EXPECT_NO_THROW(
        test::make_plugin<Method>(
            "methods", "finetune", ctx,
            with_shared({{"objective", "\"simsiam\""}, {"proj_dim", "16"}, {"batch_size", "199"}, {"epochs", "1"}}))
            ->run(s));
    EXPECT_EQ(s.snapshots.size(), 2u);
}
