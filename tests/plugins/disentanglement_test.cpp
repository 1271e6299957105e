// Disentanglement: the mutual information gap on known codes (a factor-aligned code scores 1,
// noise about 0, a code that mixes two factors in one dimension scores low), the shapes data set's
// rendering and factors, and the mig metric end to end on it.
#include <cmath>

#include "iclr/mig.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// Two independent uniform factors with 4 and 6 levels, n examples.
std::pair<torch::Tensor, torch::Tensor> two_factors(int64_t n) {
    auto g = make_generator(3);
    return {torch::randint(0, 4, {n}, g, torch::kLong), torch::randint(0, 6, {n}, g, torch::kLong)};
}

double mig_of(const torch::Tensor& codes, const std::vector<torch::Tensor>& factors) {
    auto binned = discretize(codes, 20);
    double sum = 0;
    for (const auto& f : factors)
        sum += factor_score(binned, f).gap;
    return sum / double(factors.size());
}

} // namespace

TEST(Mig, EntropyAndMutualInformationByHand) {
    // Four equally likely levels: H = ln 4. A variable with itself: I = H; with a copy that merges
    // levels {0,1} and {2,3}: I = ln 2; with an independent balanced pattern: I = 0.
    auto v = torch::tensor({0, 1, 2, 3, 0, 1, 2, 3}, torch::kLong);
    EXPECT_NEAR(entropy_of(v), std::log(4.0), 1e-12);
    EXPECT_NEAR(mutual_information(v, v), std::log(4.0), 1e-12);
    EXPECT_NEAR(mutual_information(v, torch::div(v, 2, "floor")), std::log(2.0), 1e-12);
    EXPECT_NEAR(mutual_information(v, torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong)), 0.0, 1e-12);
    // Discretisation: equal-width bins between each column's min and max; the max falls in the last.
    auto b = discretize(torch::tensor({{0.0}, {0.49}, {0.5}, {1.0}}), 2);
    EXPECT_TRUE(torch::equal(b.flatten(), torch::tensor({0, 0, 1, 1}, torch::kLong)));
}

TEST(Mig, AlignedCodeScoresOneNoiseAboutZeroMixedLow) {
    auto [a, b] = two_factors(5000);
    auto g = make_generator(4);
    auto noise = torch::randn({5000, 3}, g, torch::kDouble);
    // One dimension per factor, plus three of noise: each factor's best dimension holds all of it,
    // the runner-up almost nothing (plug-in MI of independent variables is biased up by ~0.01).
    auto aligned = torch::cat({a.to(torch::kDouble).unsqueeze(1), b.to(torch::kDouble).unsqueeze(1), noise}, 1);
    EXPECT_GT(mig_of(aligned, {a, b}), 0.97);
    EXPECT_LT(mig_of(noise, {a, b}), 0.03);
    // Both factors in one dimension (a * 6 + b, a bijection) and a copy of it: every dimension
    // knows everything, no dimension leads: the gap is 0 although the information is all there.
    auto mixed = (a * 6 + b).to(torch::kDouble).unsqueeze(1);
    auto twice = torch::cat({mixed, mixed}, 1);
    EXPECT_NEAR(mig_of(twice, {a, b}), 0.0, 1e-12);
    EXPECT_NEAR(factor_score(discretize(twice, 24), a).best, 1.0, 1e-9);
}

TEST(Shapes, RendersSixFactorsDeterministically) {
    test::TestContext ctx;
    auto make = [&](const std::map<std::string, std::string>& p) {
        return test::make_plugin<Dataset>("datasets", "shapes", ctx, p)->load(ctx);
    };
    auto b = make({{"train_size", "600"}, {"test_size", "300"}});
    ASSERT_EQ(b.tasks.size(), 1u);
    const auto& tr = b.tasks[0].train;
    EXPECT_EQ(tr.x.sizes(), (std::vector<int64_t>{600, 1, 28, 28}));
    EXPECT_EQ(b.num_classes, 3);
    EXPECT_TRUE(torch::equal(tr.y, tr.factors.at("shape")));
    std::map<std::string, int64_t> levels{{"shape", 3}, {"size", 4},     {"x", 6},
                                          {"y", 6},     {"rotation", 6}, {"intensity", 4}};
    ASSERT_EQ(tr.factors.size(), levels.size());
    for (const auto& [name, n] : levels) {
        const auto& f = tr.factors.at(name);
        EXPECT_EQ(f.size(0), 600) << name;
        EXPECT_EQ(f.max().item<int64_t>(), n - 1) << name; // every level drawn
        EXPECT_EQ(f.min().item<int64_t>(), 0) << name;
        EXPECT_EQ(b.tasks[0].test.factors.at(name).size(0), 300) << name;
    }
    // The image follows its factors: the ink grows with size and intensity (mean over the images
    // at each level), and the shape's centre of mass moves right with x.
    auto px = tr.x.flatten(1);
    px = px - std::get<0>(px.min(1, true));
    auto ink = px.sum(1);
    for (const char* name : {"size", "intensity"}) {
        const auto& f = tr.factors.at(name);
        double lo = ink.masked_select(f == 0).mean().item<double>(),
               hi = ink.masked_select(f == f.max()).mean().item<double>();
        EXPECT_GT(hi, lo * 1.5) << name;
    }
    auto cols = torch::arange(28, torch::kFloat).repeat(28);
    auto cx = (px * cols).sum(1) / ink;
    const auto& fx = tr.factors.at("x");
    EXPECT_NEAR(cx.masked_select(fx == 5).mean().item<double>() - cx.masked_select(fx == 0).mean().item<double>(), 10.0,
                0.5); // centres 9 -> 19 px
    auto again = make({{"train_size", "600"}, {"test_size", "300"}});
    EXPECT_TRUE(torch::equal(again.tasks[0].test.x, b.tasks[0].test.x));
    auto by_size = make({{"train_size", "600"}, {"test_size", "300"}, {"label", "\"size\""}});
    EXPECT_EQ(by_size.num_classes, 4);
    EXPECT_TRUE(torch::equal(by_size.tasks[0].train.y, tr.factors.at("size")));
}

TEST(Mig, MetricOnShapesPixelsAndRefusalWithoutFactors) {
    test::TestContext ctx;
    auto shapes = test::make_plugin<Dataset>("datasets", "shapes", ctx, {{"test_size", "3000"}})->load(ctx);
    auto metric = test::make_plugin<Metric>("metrics", "mig", ctx);
    test::FlatLearner pixels(28 * 28); // the raw pixels as the code
    metric->on_event({EventKind::End, 0, 7}, pixels, shapes, ctx);
    std::map<std::string, double> got;
    for (const auto& r : ctx.logged)
        got[r.key] = r.value;
    for (const char* name : {"shape", "size", "x", "y", "rotation", "intensity"}) {
        ASSERT_TRUE(got.count(std::string("mig_") + name)) << name;
        EXPECT_GE(got["mi_" + std::string(name)], got["mig_" + std::string(name)]) << name;
    }
    // A pixel knows the position best of all factors (it is lit or not depending on where the
    // shape is) but many pixels know about as much: a small gap.
    EXPECT_GT(got["mi_x"], got["mi_shape"]);
    EXPECT_LT(got["mig"], 0.2);
    EXPECT_NEAR(got["mig"],
                (got["mig_shape"] + got["mig_size"] + got["mig_x"] + got["mig_y"] + got["mig_rotation"] +
                 got["mig_intensity"]) /
                    6,
                1e-12);
    auto mnist =
        test::make_plugin<Dataset>("datasets", "mnist", ctx, {{"test_per_class", "5"}, {"train_per_class", "5"}})
            ->load(ctx);
    try {
        metric->on_event({EventKind::End, 0, 7}, pixels, mnist, ctx);
        FAIL() << "mnist has no factors, yet mig scored it";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("no known generative factors"), std::string::npos) << e.what();
    }
}
