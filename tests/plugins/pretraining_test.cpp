// E-SSL's rotations, LOOK's loss and Chaos-is-a-ladder's ACR/ARC on known values (hand-computed
// losses, a finite-difference gradient, rotations of a 2x2 image, confusion of hand-built views),
// and the plugins on real MNIST: E-SSL's rotation head learns four distinct labels above chance,
// LOOK's neighbours get purer as it trains, ARC of an unchanged network is 1.
#include <cmath>

#include "iclr/acr.hpp"
#include "iclr/look.hpp"
#include "iclr/rotation.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// One query z = (1, 0) against a bank of three rows: itself (label 0), (0, 1) (label 0) and
// (-1, 0) (label 1).
struct ThreeRows {
    torch::Tensor z = torch::tensor({{1.0, 0.0}}, torch::kDouble);
    torch::Tensor y = torch::tensor({int64_t(0)});
    torch::Tensor bank = torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, 0.0}}, torch::kDouble);
    torch::Tensor bank_y = torch::tensor({int64_t(0), int64_t(0), int64_t(1)});
};

} // namespace

TEST(Rotation, QuarterTurnsOfA2x2ImageAndFourLabels) {
    // [[1, 2], [3, 4]] turned 90 degrees counter-clockwise is [[2, 4], [1, 3]].
    auto x = torch::tensor({1.0, 2.0, 3.0, 4.0}).view({1, 1, 2, 2});
    EXPECT_TRUE(torch::equal(rotate90(x, 1), torch::tensor({2.0, 4.0, 1.0, 3.0}).view({1, 1, 2, 2})));
    EXPECT_TRUE(torch::equal(rotate90(x, 2), torch::tensor({4.0, 3.0, 2.0, 1.0}).view({1, 1, 2, 2})));
    EXPECT_TRUE(torch::equal(rotate90(x, 3), torch::tensor({3.0, 1.0, 4.0, 2.0}).view({1, 1, 2, 2})));
    auto [images, labels] = four_rotations(torch::cat({x, x + 4}));
    ASSERT_EQ(images.size(0), 8);
    EXPECT_TRUE(torch::equal(labels, torch::tensor({0, 0, 1, 1, 2, 2, 3, 3}, torch::kLong)));
    for (int64_t k = 0; k < 4; ++k) // block k holds both images turned k times
        EXPECT_TRUE(torch::equal(images.slice(0, 2 * k, 2 * k + 2), rotate90(torch::cat({x, x + 4}), k))) << k;
}

TEST(Rotation, RandomRotationTurnsWithProbabilityPAndUniformly) {
    auto x = torch::tensor({1.0, 2.0, 3.0, 4.0}).view({1, 1, 2, 2}).repeat({3000, 1, 1, 1});
    auto g = make_generator(7);
    EXPECT_TRUE(torch::equal(random_rotation(x, 0.0, g), x));
    auto out = random_rotation(x, 1.0, g);
    int64_t counts[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < x.size(0); ++i)
        for (int64_t k = 0; k < 4; ++k)
            if (torch::equal(out[i], rotate90(x.slice(0, i, i + 1), k)[0])) ++counts[k];
    EXPECT_EQ(counts[0], 0); // p = 1: every image turned
    EXPECT_EQ(counts[1] + counts[2] + counts[3], 3000);
    for (int64_t k = 1; k < 4; ++k) // each of 90/180/270 a third of the time (sd ~26)
        EXPECT_NEAR(double(counts[k]), 1000.0, 120.0) << k;
    auto half = random_rotation(x, 0.5, g);
    int64_t unturned = 0;
    for (int64_t i = 0; i < x.size(0); ++i)
        unturned += torch::equal(half[i], x[i]);
    EXPECT_NEAR(double(unturned), 1500.0, 150.0);
}

TEST(Look, LossOnHandComputedTensorsLeavesTheExampleItselfOut) {
    ThreeRows t;
    // Itself left out: neighbours (0, 1) at s = 0 (same label) and (-1, 0) at s = -1 (other):
    // L = -log(e^0 / (e^0 + e^-1)) = log(1 + e^-1).
    auto l = look_loss(t.z, t.y, t.bank, t.bank_y, torch::tensor({int64_t(0)}), 2, 1.0);
    EXPECT_NEAR(l.loss.item<double>(), std::log(1.0 + std::exp(-1.0)), 1e-12);
    EXPECT_NEAR(l.purity, 0.5, 1e-12);
    EXPECT_EQ(l.orphans, 0);
    // tau = 0.5 doubles the similarities: log(1 + e^-2).
    l = look_loss(t.z, t.y, t.bank, t.bank_y, torch::tensor({int64_t(0)}), 2, 0.5);
    EXPECT_NEAR(l.loss.item<double>(), std::log(1.0 + std::exp(-2.0)), 1e-12);
    // Not left out, its two nearest rows are itself and (0, 1), both label 0: L = 0.
    l = look_loss(t.z, t.y, t.bank, t.bank_y, torch::tensor({int64_t(-1)}), 2, 1.0);
    EXPECT_NEAR(l.loss.item<double>(), 0.0, 1e-12);
    // Label 1 with k = 1: its one neighbour (0, 1) has label 0, an orphan with no loss.
    l = look_loss(t.z, torch::tensor({int64_t(1)}), t.bank, t.bank_y, torch::tensor({int64_t(0)}), 1, 1.0);
    EXPECT_EQ(l.orphans, 1);
    EXPECT_EQ(l.loss.item<double>(), 0.0);
}

TEST(Look, GradientMatchesFiniteDifferences) {
    torch::manual_seed(3);
    auto normalize = [](const torch::Tensor& v) { return v / v.norm(2, 1, true); };
    auto bank = normalize(torch::randn({12, 5}, torch::kDouble));
    auto bank_y = torch::randint(0, 2, {12}, torch::kLong);
    auto y = torch::tensor({int64_t(0), int64_t(1), int64_t(0)});
    auto self = torch::tensor({int64_t(2), int64_t(-1), int64_t(7)});
    auto z = torch::randn({3, 5}, torch::kDouble).requires_grad_(true);
    auto f = [&](const torch::Tensor& v) { return look_loss(normalize(v), y, bank, bank_y, self, 4, 0.3).loss; };
    auto grad = torch::autograd::grad({f(z)}, {z})[0];
    const double h = 1e-6;
    for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j) {
            auto up = z.detach().clone(), down = z.detach().clone();
            up[i][j] += h;
            down[i][j] -= h;
            double numeric = (f(up).item<double>() - f(down).item<double>()) / (2 * h);
            EXPECT_NEAR(grad[i][j].item<double>(), numeric, 1e-6) << i << "," << j;
        }
}

TEST(Essl, RotationHeadLearnsFourLabelsAboveChance) {
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    test::make_plugin<Method>("methods", "essl", ctx,
                              {{"epochs", "3"}, {"batch_size", "32"}, {"log_every", "5"}, {"lr", "0.05"}})
        ->run(s);
    auto acc = test::logged_values(ctx, "rotation_acc"), ce = test::logged_values(ctx, "rotation_loss");
    ASSERT_GE(acc.size(), 4u);
    // Chance over four rotations is 0.25 (ln 4 = 1.386 of cross-entropy); digits 2 and 3 are not
    // symmetric, so the head beats it by the end.
    EXPECT_GT(acc.back(), 0.45);
    EXPECT_LT(ce.back(), std::log(4.0) - 0.2);
    EXPECT_NEAR(ce.front(), std::log(4.0), 0.3); // starts near chance: the labels are not leaked
}

TEST(Essl, LambdaZeroTrainsNoRotationHeadAndSupervisedIsRefused) {
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    test::make_plugin<Method>("methods", "essl", ctx,
                              {{"epochs", "1"}, {"batch_size", "32"}, {"lambda", "0.0"}, {"log_every", "5"}})
        ->run(s);
    EXPECT_TRUE(test::logged_values(ctx, "rotation_loss").empty());
    EXPECT_FALSE(test::logged_values(ctx, "train_loss").empty());
    try {
        test::make_plugin<Method>("methods", "essl", ctx, {{"objective", "\"supervised\""}});
        FAIL() << "essl accepted a supervised objective";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("self-supervised objective"), std::string::npos) << e.what();
    }
}

TEST(Look, NeighboursGetPurerAsItTrainsOnRealDigits) {
    test::TestContext ctx;
    test::SplitMnist s(ctx); // digits 0-3
    test::make_plugin<Method>(
        "methods", "look", ctx,
        {{"superclasses", "[[0, 2], [1, 3]]"}, {"epochs", "4"}, {"batch_size", "32"}, {"k", "10"}, {"log_every", "5"}})
        ->run(s);
    // 400 images of 4 digits in two superclasses, k = 10: at the start ~0.7 of an image's neighbours
    // share its superclass; after 4 epochs ~0.85 (means of the first and last three logs).
    auto purity = test::logged_values(ctx, "look_purity"), loss = test::logged_values(ctx, "train_loss");
    ASSERT_GE(purity.size(), 6u);
    auto mean3 = [](auto first) { return (first[0] + first[1] + first[2]) / 3.0; };
    double start = mean3(purity.begin()), end = mean3(purity.end() - 3);
    EXPECT_GT(end, start + 0.08) << start << " -> " << end;
    EXPECT_LT(mean3(loss.end() - 3), mean3(loss.begin())) << "the kNN loss did not fall";
}

TEST(Look, SuperclassesMustCoverEveryClassOnce) {
    for (auto [groups, message] : std::vector<std::pair<std::string, std::string>>{
             {"[[0, 1], [2]]", "class 3 is in no group"},
             {"[[0, 1], [1, 2, 3]]", "class 1 is in two groups"},
             {"[[0, 1], [2, 3, 10]]", "10 is not a class of the data set"}}) {
        test::TestContext ctx;
        test::SplitMnist s(ctx);
        try {
            test::make_plugin<Method>("methods", "look", ctx, {{"superclasses", groups}})->run(s);
            ADD_FAILURE() << groups << " accepted";
        } catch (const std::exception& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
        }
    }
}

TEST(Acr, ConfusionOfHandBuiltViewsAndArc) {
    auto anchor = torch::tensor({0, 0, 1, 1}, torch::kLong);
    // Each image's two views identical, the images orthogonal: every view finds its twin.
    auto apart = torch::tensor({{1.0, 0.0}, {1.0, 0.0}, {0.0, 1.0}, {0.0, 1.0}});
    EXPECT_EQ(augmentation_confusion(apart, anchor), 0.0);
    // Image 0's views point along the axes, image 1's a hair off them: each view's nearest is the
    // other image's view along the same axis.
    auto crossed = torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {1.0, 0.01}, {0.01, 1.0}});
    EXPECT_EQ(augmentation_confusion(crossed, anchor), 1.0);
    // Half: image 0's views twin, image 1's views each nearer to image 0 than to each other.
    auto half = torch::tensor({{1.0, 0.0}, {1.0, 0.0}, {1.0, 0.3}, {1.0, -0.3}});
    EXPECT_EQ(augmentation_confusion(half, anchor), 0.5);
    EXPECT_DOUBLE_EQ(augmentation_relative_confusion(0.6, 0.2), 2.0); // (1 - 0.2) / (1 - 0.6)
}

TEST(Acr, UnchangedNetworkHasArcOneAndMilderViewsConfuseLess) {
    std::vector<double> acr_of;
    for (auto [crop, noise] : std::vector<std::pair<std::string, std::string>>{{"0.2", "0.1"}, {"1.0", "0.0"}}) {
        test::TestContext ctx;
        test::SplitMnist s(ctx);
        test::FlatLearner pixels(28 * 28);
        auto acr = test::make_plugin<Metric>("metrics", "acr", ctx,
                                             {{"anchors", "64"}, {"crop_min_scale", crop}, {"noise", noise}});
        acr->on_event({EventKind::Step, 0, 0}, pixels, s.benchmark(), ctx);
        acr->on_event({EventKind::End, 1, 10}, pixels, s.benchmark(), ctx);
        auto start = test::logged_values(ctx, "acr_start"), end = test::logged_values(ctx, "acr"),
             arc = test::logged_values(ctx, "arc");
        ASSERT_EQ(start.size(), 1u);
        ASSERT_EQ(arc.size(), 1u);
        EXPECT_EQ(start[0], end[0]); // the same views of the same images
        EXPECT_EQ(arc[0], 1.0);
        acr_of.push_back(end[0]);
    }
    // In pixel space, crops of a fifth of a digit find other digits' crops far more often than
    // whole digits with a little aspect-ratio jitter do.
    EXPECT_GT(acr_of[0], acr_of[1] + 0.2) << acr_of[0] << " vs " << acr_of[1];
}
