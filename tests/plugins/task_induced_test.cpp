// Task-induced representations: SimCLR's NT-Xent on hand-built projections, the cluttered_mnist
// canvases against the real digits they hold, and the task_induced method on real data (it sees
// only the prior tasks' images; `none` leaves the network as it was; every objective learns).
#include <cmath>

#include "iclr/contrastive.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

Benchmark load(test::TestContext& ctx, const std::string& name, const std::map<std::string, std::string>& p) {
    return test::make_plugin<Dataset>("datasets", name, ctx, p)->load(ctx);
}

const std::map<std::string, std::string> kDigits{
    {"tasks", "[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]"}, {"train_per_class", "20"}, {"test_per_class", "10"}};

std::map<std::string, std::string> with(std::map<std::string, std::string> m, const std::string& k,
                                        const std::string& v) {
    m[k] = v;
    return m;
}

} // namespace

TEST(NtXent, TwoImagesByHand) {
    // Views that agree: each view's positive has cosine 1, its two negatives 0 (tau 1):
    // -log(e / (e + 2)) for all four views. Swapped views: the positive has 0, one negative 1.
    auto a = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kDouble);
    EXPECT_NEAR(nt_xent(a, a, 1.0).item<double>(), std::log(1 + 2 / std::exp(1.0)), 1e-12);
    EXPECT_NEAR(nt_xent(a, a.flip(0), 1.0).item<double>(), std::log(2 + std::exp(1.0)), 1e-12);
    // tau scales the similarities: tau 0.5 doubles them.
    EXPECT_NEAR(nt_xent(a, a * 3.0, 0.5).item<double>(), std::log(1 + 2 / std::exp(2.0)), 1e-12);
}

TEST(ClutteredMnist, CanvasesHoldTheRealDigitsAmongFragments) {
    test::TestContext ctx;
    auto digits = load(ctx, "mnist", kDigits);
    auto clean = load(ctx, "cluttered_mnist", with(kDigits, "distractors", "0"));
    auto busy = load(ctx, "cluttered_mnist", with(kDigits, "distractors", "6"));
    ASSERT_EQ(clean.tasks.size(), 2u);
    EXPECT_EQ(clean.input_shape, (std::vector<int64_t>{1, 40, 40}));
    double mean = 0.1307, sd = 0.3081;
    auto ink = [&](const torch::Tensor& x) { return (x * sd + mean).sum({1, 2, 3}); };
    for (size_t t = 0; t < 2; ++t) {
        const auto& d = digits.tasks[t].train;
        const auto& c = clean.tasks[t].train;
        EXPECT_TRUE(torch::equal(c.y, d.y)) << "labels are the digits'";
        EXPECT_EQ(c.x.sizes(), (std::vector<int64_t>{d.size(), 1, 40, 40}));
        // Without distractors each canvas is its digit somewhere on black: the same ink, and the
        // digit found by its top-left offset.
        EXPECT_TRUE(torch::allclose(ink(c.x), ink(d.x), 1e-3, 1e-2));
        for (int64_t i = 0; i < 5; ++i) {
            auto px = c.x[i][0] * sd + mean;
            bool found = false;
            for (int64_t y = 0; y <= 12 && !found; ++y)
                for (int64_t x = 0; x <= 12 && !found; ++x)
                    found =
                        torch::allclose(px.slice(0, y, y + 28).slice(1, x, x + 28), d.x[i][0] * sd + mean, 1e-5, 1e-5);
            EXPECT_TRUE(found) << "task " << t << " image " << i;
        }
        // Distractors only add ink (brighter pixel wins), and a lot of it.
        auto more = ink(busy.tasks[t].train.x) - ink(c.x);
        EXPECT_GE(more.min().item<double>(), -1e-3);
        EXPECT_GT(more.mean().item<double>(), 0.5 * ink(d.x).mean().item<double>());
    }
    // A function of the parameters: the same canvases again; another split_seed, other ones.
    auto again = load(ctx, "cluttered_mnist", with(kDigits, "distractors", "6"));
    EXPECT_TRUE(torch::equal(again.tasks[1].test.x, busy.tasks[1].test.x));
    auto other = load(ctx, "cluttered_mnist", with(with(kDigits, "distractors", "6"), "split_seed", "1"));
    EXPECT_FALSE(torch::equal(other.tasks[1].test.x, busy.tasks[1].test.x));
}

// The shifted test sets are the cluttered test canvases shifted (0.1.0 shifted the bare digits, a
// shape the canvas's models cannot take): contrast c is m + c (u - m) of each canvas's pixels u.
TEST(ClutteredMnist, ShiftedTestSetsAreTheCanvasesShifted) {
    test::TestContext ctx;
    auto plain = load(ctx, "cluttered_mnist", kDigits);
    auto shifted = load(ctx, "cluttered_mnist", with(with(kDigits, "ood_contrast", "0.5"), "ood_rotation", "30"));
    EXPECT_TRUE(plain.shifted_tests.empty());
    ASSERT_EQ(shifted.shifted_tests.size(), 2u);
    auto test_x = torch::cat({shifted.tasks[0].test.x, shifted.tasks[1].test.x});
    EXPECT_TRUE(torch::equal(test_x, torch::cat({plain.tasks[0].test.x, plain.tasks[1].test.x})));
    double mean = 0.1307, sd = 0.3081;
    auto u = test_x * sd + mean;
    auto m = u.mean({1, 2, 3}, true);
    const auto& contrast = shifted.shifted_tests.at("contrast");
    EXPECT_TRUE(torch::allclose(contrast.x * sd + mean, m + 0.5 * (u - m), 1e-5, 1e-5));
    EXPECT_TRUE(torch::equal(contrast.y, torch::cat({plain.tasks[0].test.y, plain.tasks[1].test.y})));
    EXPECT_EQ(shifted.shifted_tests.at("rotation").x.sizes(), test_x.sizes());
    EXPECT_FALSE(torch::allclose(shifted.shifted_tests.at("rotation").x, test_x));
}

TEST(TaskInduced, TrainsOnThePriorTasksOnlyAndEveryObjectiveLearns) {
    // Split MNIST 0/1 then 2/3, 200 training images per task, batch 32: 6 full batches an epoch
    // of task 0 alone, 12 of both.
    auto steps = [](const std::string& objective, const std::string& prior) {
        test::TestContext ctx;
        test::SplitMnist s(ctx, "cnn", {{"width", "8"}});
        test::make_plugin<Method>("methods", "task_induced", ctx,
                                  {{"objective", "\"" + objective + "\""},
                                   {"prior_tasks", prior},
                                   {"epochs", "5"},
                                   {"batch_size", "32"},
                                   {"log_every", "1"}})
            ->run(s);
        return test::logged_values(ctx, "train_loss");
    };
    for (std::string objective : {"supervised", "autoencoder", "contrastive"}) {
        auto one = steps(objective, "1");
        EXPECT_EQ(one.size(), 30u) << objective;
        EXPECT_EQ(steps(objective, "2").size(), 60u) << objective;
        auto mean5 = [](auto b) { return (b[0] + b[1] + b[2] + b[3] + b[4]) / 5.0; };
        EXPECT_LT(mean5(one.end() - 5), mean5(one.begin()) * 0.9) << objective << ": the loss did not fall";
    }
}

TEST(TaskInduced, NoneLeavesTheNetworkAsInitialisedAndTooManyPriorTasksAreRefused) {
    test::TestContext ctx;
    test::SplitMnist s(ctx, "cnn", {{"width", "8"}});
    test::make_plugin<Method>("methods", "task_induced", ctx, {{"objective", "\"none\""}})->run(s);
    torch::manual_seed(0); // the session's seed: the first backbone drawn is the method's
    auto init = s.new_backbone()->parameters();
    ASSERT_EQ(s.snapshots.size(), 1u);
    ASSERT_EQ(s.snapshots[0].size(), init.size());
    for (size_t i = 0; i < init.size(); ++i)
        EXPECT_TRUE(torch::equal(s.snapshots[0][i], init[i])) << i;
    EXPECT_TRUE(test::logged_values(ctx, "train_loss").empty());
    try {
        test::make_plugin<Method>("methods", "task_induced", ctx, {{"prior_tasks", "3"}})->run(s);
        FAIL() << "prior_tasks = 3 of 2 tasks was accepted";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("prior_tasks = 3"), std::string::npos) << e.what();
    }
}
