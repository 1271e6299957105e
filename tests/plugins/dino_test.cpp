// DINO's and EsViT's pieces on known values (targets and cross-entropy by hand, the gradient's
// closed form, region matching on hand-built tokens, centre and EMA updates, the momentum
// schedule), and the esvit plugin on real digits: the teacher is the student's EMA, evaluated.
#include <cmath>

#include "iclr/dino.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

TEST(Dino, CentredSharpenedTargetsAndCrossEntropyByHand) {
    // Teacher (1, 1 + tau_t ln 3) centred by (1, 1): softmax((0, ln 3)) = (1/4, 3/4).
    double tau_t = 0.04, tau_s = 0.1;
    auto t = torch::tensor({{1.0, 1.0 + tau_t * std::log(3.0)}}, torch::kDouble);
    auto p = dino_targets(t, torch::tensor({{1.0, 1.0}}, torch::kDouble), tau_t);
    EXPECT_TRUE(torch::allclose(p, torch::tensor({{0.25, 0.75}}, torch::kDouble)));
    // Student (0, tau_s ln 2): softmax = (1/3, 2/3); H(p, q) = -(1/4 ln 1/3 + 3/4 ln 2/3).
    auto s = torch::tensor({{0.0, tau_s * std::log(2.0)}}, torch::kDouble);
    double expected = -(0.25 * std::log(1.0 / 3) + 0.75 * std::log(2.0 / 3));
    EXPECT_NEAR(dino_cross_entropy(p, s, tau_s).item<double>(), expected, 1e-12);
    // Averaged over every leading dimension: two identical rows, or [1, 2, K] tokens, give the same.
    EXPECT_NEAR(dino_cross_entropy(torch::cat({p, p}), torch::cat({s, s}), tau_s).item<double>(), expected, 1e-12);
    EXPECT_NEAR(
        dino_cross_entropy(torch::cat({p, p}).unsqueeze(0), torch::cat({s, s}).unsqueeze(0), tau_s).item<double>(),
        expected, 1e-12);
}

TEST(Dino, CrossEntropyGradientIsTheClosedForm) {
    // d/ds of mean_i H(p_i, softmax(s_i / tau)) = (softmax(s_i / tau) - p_i) / (tau N).
    double tau = 0.1;
    auto p = torch::softmax(torch::randn({3, 5}, torch::kDouble), 1);
    auto s = torch::randn({3, 5}, torch::kDouble).requires_grad_(true);
    dino_cross_entropy(p, s, tau).backward();
    auto closed = (torch::softmax(s.detach() / tau, 1) - p) / (tau * 3);
    EXPECT_TRUE(torch::allclose(s.grad(), closed, 1e-9, 1e-12));
}

TEST(Dino, RegionTargetsComeFromTheMostSimilarTeacherToken) {
    // Student tokens (1, 0) and (0, 1); teacher tokens (0, 2), (3, 0.1), (0, -1): by cosine, the
    // first student token matches teacher token 1, the second teacher token 0 (length ignored).
    auto st = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kDouble).unsqueeze(0);
    auto tt = torch::tensor({{0.0, 2.0}, {3.0, 0.1}, {0.0, -1.0}}, torch::kDouble).unsqueeze(0);
    auto targets = torch::tensor({{0.1, 0.9}, {0.6, 0.4}, {0.5, 0.5}}, torch::kDouble).unsqueeze(0);
    auto m = matched_region_targets(st, tt, targets);
    EXPECT_TRUE(torch::equal(m, torch::tensor({{0.6, 0.4}, {0.1, 0.9}}, torch::kDouble).unsqueeze(0)));
    // Per image: the second image's tokens never match the first image's.
    auto two =
        matched_region_targets(torch::cat({st, st}), torch::cat({tt, tt.flip(1)}), torch::cat({targets, targets}));
    EXPECT_TRUE(torch::equal(two[1], torch::tensor({{0.6, 0.4}, {0.5, 0.5}}, torch::kDouble))); // flipped: 1, 2
}

TEST(Dino, CentreEmaMomentumScheduleAndHead) {
    auto c = torch::zeros({1, 2}, torch::kDouble);
    update_center(c, torch::tensor({{1.0, 2.0}, {3.0, 4.0}}, torch::kDouble), 0.9);
    EXPECT_TRUE(torch::allclose(c, torch::tensor({{0.2, 0.3}}, torch::kDouble)));
    update_center(c, torch::tensor({{{1.0, 2.0}}, {{3.0, 4.0}}}, torch::kDouble), 0.5); // tokens: [2, 1, 2]
    EXPECT_TRUE(torch::allclose(c, torch::tensor({{1.1, 1.65}}, torch::kDouble)));

    auto teacher = torch::tensor({1.0, 1.0}), student = torch::tensor({3.0, -1.0});
    ema_update({teacher}, {student}, 0.75);
    EXPECT_TRUE(torch::allclose(teacher, torch::tensor({1.5, 0.5})));

    EXPECT_DOUBLE_EQ(cosine_momentum(0.996, 0, 100), 0.996);
    EXPECT_NEAR(cosine_momentum(0.996, 50, 100), 0.998, 1e-12);
    EXPECT_DOUBLE_EQ(cosine_momentum(0.996, 100, 100), 1.0);

    // The head's outputs are cosines: in [-1, 1], unchanged when the prototypes are rescaled.
    torch::manual_seed(0);
    DinoHead head(8, 16, 4, 10);
    auto x = torch::randn({5, 3, 8}); // tokens too
    auto out = head->forward(x);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 3, 10}));
    EXPECT_LE(out.abs().max().item<double>(), 1.0 + 1e-6);
    {
        torch::NoGradGuard g;
        head->prototypes.mul_(7.0);
    }
    EXPECT_TRUE(torch::allclose(head->forward(x), out, 1e-5, 1e-6));
}

TEST(Esvit, TeacherIsTheStudentsEmaAndIsWhatMetricsSee) {
    // teacher_momentum 1: the teacher never moves from the student's initial weights, which is what
    // the metrics' learner holds at the end; at 0.996 it moves less than the student.
    auto run = [](const std::string& momentum, const std::string& evaluate) {
        test::TestContext ctx;
        test::SplitMnist s(ctx, "vit", {{"width", "16"}, {"depth", "1"}, {"heads", "2"}});
        test::make_plugin<Method>("methods", "esvit", ctx,
                                  {{"teacher_momentum", momentum},
                                   {"evaluate", "\"" + evaluate + "\""},
                                   {"epochs", "1"},
                                   {"batch_size", "64"},
                                   {"out_dim", "32"},
                                   {"log_every", "1"}})
            ->run(s);
        torch::manual_seed(0); // the session's seed: the first backbone drawn is the student's start
        auto init = s.new_backbone()->parameters();
        EXPECT_EQ(s.snapshots.size(), 1u);
        return std::make_pair(s.snapshots.back(), init);
    };
    auto [frozen, init] = run("1.0", "teacher");
    ASSERT_EQ(frozen.size(), init.size());
    for (size_t i = 0; i < init.size(); ++i)
        EXPECT_TRUE(torch::equal(frozen[i], init[i])) << i;
    // At DINO's 0.996 the teacher trails the student: it has moved, but less far from the start.
    auto [teacher, init1] = run("0.996", "teacher");
    auto [student, init2] = run("0.996", "student");
    double to_teacher = 0, to_student = 0;
    for (size_t i = 0; i < init.size(); ++i) {
        to_teacher += (teacher[i] - init1[i]).pow(2).sum().item<double>();
        to_student += (student[i] - init2[i]).pow(2).sum().item<double>();
    }
    EXPECT_GT(to_teacher, 0.0);
    EXPECT_LT(to_teacher, to_student * 0.5) << to_teacher << " vs " << to_student;
}

TEST(Esvit, StudentLearnsToMatchTheTeacherOnRealDigitsAndRegionLossNeedsPatchTokens) {
    test::TestContext ctx;
    test::SplitMnist s(ctx, "vit", {{"width", "32"}, {"depth", "1"}, {"heads", "2"}});
    test::make_plugin<Method>("methods", "esvit", ctx,
                              {{"epochs", "6"}, {"batch_size", "32"}, {"out_dim", "64"}, {"log_every", "1"}})
        ->run(s);
    auto view = test::logged_values(ctx, "dino_view_loss"), entropy = test::logged_values(ctx, "teacher_entropy");
    ASSERT_EQ(test::logged_values(ctx, "esvit_region_loss").size(),
              72u); // 400 images / 32 = 12 full batches x 6 epochs
    ASSERT_EQ(view.size(), 72u);
    ASSERT_EQ(entropy.size(), 72u);
    // The view loss is H(targets, student) = H(targets) + KL(targets || student): the KL is what
    // the student controls, and it falls as the student learns to predict the teacher (about
    // 0.6 in the first epoch, 0.2 in the sixth). The losses themselves need not fall: the targets
    // move (they flatten first here, then sharpen over longer runs).
    auto kl = [&](size_t from) {
        double sum = 0;
        for (size_t i = from; i < from + 12; ++i)
            sum += view[i] - entropy[i];
        return sum / 12;
    };
    EXPECT_GE(kl(60), 0.0);
    EXPECT_LT(kl(60), kl(0) * 0.6) << kl(0) << " -> " << kl(60);

    test::TestContext ctx2;
    test::SplitMnist mlp(ctx2); // an MLP has no patch tokens
    try {
        test::make_plugin<Method>("methods", "esvit", ctx2, {{"epochs", "1"}})->run(mlp);
        FAIL() << "an MLP was accepted for the region loss";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("patch tokens"), std::string::npos) << e.what();
    }
    test::make_plugin<Method>("methods", "esvit", ctx2, {{"epochs", "1"}, {"region_weight", "0.0"}})->run(mlp); // DINO
}
