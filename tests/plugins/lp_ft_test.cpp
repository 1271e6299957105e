// The LP-FT family on real MNIST with shifted test sets: linear_probe leaves the backbone (and its
// BatchNorm statistics) bit for bit and feature_distortion reads 0 for it; finetune moves it and
// feature_distortion equals the distance computed here; lp_ft starts fine-tuning from the probed
// head; ood_accuracy counts by hand on known logits; the data set's shifts are what they say.
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// Digits 0-2 (30 training, 20 test images each) with two shifted test sets.
class ShiftedMnist : public Session {
  public:
    explicit ShiftedMnist(test::TestContext& ctx, const std::string& model = "resnet")
        : ctx_(ctx), model_(test::make_plugin<Model>("models", model, ctx, {{"width", "8"}})),
          bench_(test::make_plugin<Dataset>("datasets", "mnist", ctx,
                                            {{"tasks", "[[0, 1, 2]]"},
                                             {"train_per_class", "30"},
                                             {"test_per_class", "20"},
                                             {"ood_rotation", "45.0"},
                                             {"ood_stroke", "1"}})
                     ->load(ctx)) {}
    const Benchmark& benchmark() override { return bench_; }
    std::shared_ptr<Backbone> new_backbone() override { return model_->build(bench_.input_shape, ctx_); }
    void notify(const Event& e, Learner& learner) override {
        for (auto& m : metrics)
            m->on_event(e, learner, bench_, ctx_);
    }
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override { return nullptr; }
    std::string config_text(const std::string&) override { return ""; }
    std::vector<std::unique_ptr<Metric>> metrics;

  private:
    test::TestContext& ctx_;
    std::unique_ptr<Model> model_;
    Benchmark bench_;
};

// The backbone's parameters and buffers (BatchNorm statistics), the trainable tensors and the ID
// features at Step 0 and at End.
struct Capture : Metric {
    struct State {
        std::vector<torch::Tensor> backbone, trainable;
        torch::Tensor features;
    };
    void on_event(const Event& e, Learner& learner, const Benchmark& b, RunContext&) override {
        if (!(e.kind == EventKind::End || (e.kind == EventKind::Step && e.step == 0))) return;
        State s;
        for (auto& p : learner.backbone().parameters())
            s.backbone.push_back(p.detach().clone());
        for (auto& p : learner.backbone().buffers())
            s.backbone.push_back(p.detach().clone());
        for (auto& p : learner.trainable())
            s.trainable.push_back(p.detach().clone());
        torch::NoGradGuard no_grad;
        bool was = learner.backbone().is_training();
        learner.backbone().eval();
        s.features = learner.features(b.tasks[0].test.x).clone();
        learner.backbone().train(was);
        (e.kind == EventKind::End ? end : start) = s;
    }
    State start, end;
};

double last_logged(const test::TestContext& ctx, const std::string& key) {
    auto v = test::logged_values(ctx, key);
    return v.empty() ? std::nan("") : v.back();
}

Capture* run(test::TestContext& ctx, ShiftedMnist& s, const std::string& method,
             std::map<std::string, std::string> params) {
    auto capture = std::make_unique<Capture>();
    Capture* c = capture.get();
    s.metrics.push_back(std::move(capture));
    s.metrics.push_back(test::make_plugin<Metric>("metrics", "feature_distortion", ctx));
    s.metrics.push_back(test::make_plugin<Metric>("metrics", "ood_accuracy", ctx));
    params.insert({{"lr", "0.05"}, {"momentum", "0.9"}, {"batch_size", "16"}, {"log_every", "1"}});
    torch::manual_seed(0); // the backbone is drawn from torch's generator: the same for every method
    test::make_plugin<Method>("methods", method, ctx, params)->run(s);
    return c;
}

} // namespace

TEST(LpFt, LinearProbeLeavesTheBackboneAndItsStatisticsAlone) {
    test::TestContext ctx;
    ShiftedMnist s(ctx);
    Capture* c = run(ctx, s, "linear_probe", {{"epochs", "2"}});
    ASSERT_FALSE(c->start.backbone.empty());
    EXPECT_TRUE(test::same_tensors(c->start.backbone, c->end.backbone))
        << "a frozen backbone (or its BatchNorm statistics) moved";
    EXPECT_FALSE(test::same_tensors(c->start.trainable, c->end.trainable)) << "the head did not train";
    EXPECT_EQ(c->end.trainable.size(), 2u); // the head's weight and bias only
    EXPECT_EQ(last_logged(ctx, "feature_distortion_id"), 0.0);
    EXPECT_EQ(last_logged(ctx, "feature_distortion_ood"), 0.0);
    EXPECT_GT(last_logged(ctx, "ood_accuracy_rotation"), 0.0);
    EXPECT_FALSE(std::isnan(last_logged(ctx, "ood_accuracy_stroke")));
}

TEST(LpFt, FinetuneMovesFeaturesByTheDistanceTheMetricReports) {
    test::TestContext ctx;
    ShiftedMnist s(ctx);
    Capture* c = run(ctx, s, "finetune", {{"epochs", "2"}});
    EXPECT_FALSE(test::same_tensors(c->start.backbone, c->end.backbone));
    // The metric's ID inputs are the first 500 of the test split: here all 60 of them.
    double by_hand = (c->end.features - c->start.features).norm(2, {1}).mean().item<double>();
    EXPECT_GT(by_hand, 0.0);
    EXPECT_NEAR(last_logged(ctx, "feature_distortion_id"), by_hand, 1e-5 * by_hand);
    EXPECT_GT(last_logged(ctx, "feature_distortion_rotation"), 0.0);
    double mean = (last_logged(ctx, "feature_distortion_rotation") + last_logged(ctx, "feature_distortion_stroke")) / 2;
    EXPECT_NEAR(last_logged(ctx, "feature_distortion_ood"), mean, 1e-12);
}

TEST(LpFt, FineTuningStartsFromTheProbedHead) {
    test::TestContext ft_ctx, lpft_ctx;
    ShiftedMnist ft(ft_ctx), lpft(lpft_ctx);
    run(ft_ctx, ft, "finetune", {{"epochs", "1"}});
    Capture* c = run(lpft_ctx, lpft, "lp_ft", {{"epochs", "1"}, {"probe_epochs", "4"}, {"probe_lr", "0.05"}});
    auto probe_steps = int64_t(last_logged(lpft_ctx, "probe_steps"));
    ASSERT_EQ(probe_steps, 4 * 6); // 90 images in batches of 16
    // train_loss is logged every step: lp_ft's step probe_steps + 1 is its first fine-tuning step;
    // finetune's step 1 is the same backbone (same seed) under a random head.
    double first_ft = std::nan(""), random_head = std::nan("");
    for (const auto& r : lpft_ctx.logged)
        if (r.key == "train_loss" && r.step == probe_steps + 1) first_ft = r.value;
    for (const auto& r : ft_ctx.logged)
        if (r.key == "train_loss" && r.step == 1) random_head = r.value;
    EXPECT_LT(first_ft, random_head) << "fine-tuning did not start from a probed head";
    EXPECT_FALSE(test::same_tensors(c->start.backbone, c->end.backbone))
        << "the fine-tuning stage did not move the backbone";
    EXPECT_GT(last_logged(lpft_ctx, "feature_distortion_id"), 0.0);
}

TEST(LpFt, OodAccuracyCountsByHand) {
    test::TestContext ctx;
    Benchmark b;
    b.name = "toy";
    b.tasks.push_back({"t0", {0, 1}, {}, {}});
    b.tasks.push_back({"t1", {2}, {}, {}});
    // Logits = the inputs (FlatLearner): predictions 0, 2, 0, 2 against labels 0, 1, 2, 2.
    b.shifted_tests["a"] = {torch::tensor({5.f, 1.f, 0.f, 0.f, 1.f, 9.f, 1.f, 0.f, 0.f, 0.f, 0.f, 1.f}).view({4, 3}),
                            torch::tensor({0, 1, 2, 2}, torch::kLong)};
    b.shifted_tests["b"] = {torch::eye(3), torch::tensor({0, 1, 2}, torch::kLong)};
    test::FlatLearner learner(3);
    auto m = test::make_plugin<Metric>("metrics", "ood_accuracy", ctx);
    m->on_event({EventKind::End, 1, 10}, learner, b, ctx);
    EXPECT_DOUBLE_EQ(last_logged(ctx, "ood_accuracy_a"), 0.5);
    EXPECT_DOUBLE_EQ(last_logged(ctx, "ood_accuracy_b"), 1.0);
    EXPECT_DOUBLE_EQ(last_logged(ctx, "ood_accuracy"), 0.75);
    b.shifted_tests.clear();
    EXPECT_THROW(m->on_event({EventKind::End, 1, 10}, learner, b, ctx), PluginError);
}

TEST(LpFt, ShiftedTestSetsAreWhatTheySay) {
    test::TestContext ctx;
    auto b = test::make_plugin<Dataset>("datasets", "mnist", ctx,
                                        {{"tasks", "[[0, 1], [2, 3]]"},
                                         {"train_per_class", "10"},
                                         {"test_per_class", "50"},
                                         {"ood_rotation", "90.0"},
                                         {"ood_noise", "0.2"},
                                         {"ood_contrast", "0.5"},
                                         {"ood_stroke", "1"}})
                 ->load(ctx);
    ASSERT_EQ(b.shifted_tests.size(), 4u);
    auto id = torch::cat({b.tasks[0].test.x, b.tasks[1].test.x});
    auto labels = torch::cat({b.tasks[0].test.y, b.tasks[1].test.y});
    const double mean = 0.1307, sd = 0.3081;
    auto pixels = [&](const torch::Tensor& x) { return x * sd + mean; };
    for (const auto& [name, split] : b.shifted_tests)
        EXPECT_TRUE(torch::equal(split.y, labels)) << name; // the same images, in the same order
    // 90 degrees is rot90 of every image (bilinear at a right angle is exact but for the border).
    auto rotated = pixels(b.shifted_tests.at("rotation").x);
    auto expect = torch::rot90(pixels(id), 1, {2, 3});
    EXPECT_LT(std::min((rotated - expect).abs().mean().item<double>(),
                       (rotated - torch::rot90(pixels(id), -1, {2, 3})).abs().mean().item<double>()),
              0.05);
    // Contrast 0.5: deviations from each image's mean pixel halve.
    auto u = pixels(id), c = pixels(b.shifted_tests.at("contrast").x);
    auto m = u.mean({1, 2, 3}, true);
    EXPECT_TRUE(torch::allclose(c - m, 0.5 * (u - m), 1e-4, 1e-5));
    // Thicker strokes: never darker anywhere, more ink in all.
    auto s = pixels(b.shifted_tests.at("stroke").x);
    EXPECT_GE((s - u).min().item<double>(), -1e-5);
    EXPECT_GT(s.sum().item<double>(), 1.5 * u.sum().item<double>());
    // Noise: in [0, 1], about 0.2 sd where the image is mid-range, and the same in every load.
    auto n = pixels(b.shifted_tests.at("noise").x);
    EXPECT_GE(n.min().item<double>(), -1e-5);
    EXPECT_LE(n.max().item<double>(), 1.0 + 1e-5);
    auto again =
        test::make_plugin<Dataset>(
            "datasets", "mnist", ctx,
            {{"tasks", "[[0, 1], [2, 3]]"}, {"train_per_class", "10"}, {"test_per_class", "50"}, {"ood_noise", "0.2"}})
            ->load(ctx);
    EXPECT_TRUE(torch::equal(again.shifted_tests.at("noise").x, b.shifted_tests.at("noise").x));
    EXPECT_EQ(again.shifted_tests.size(), 1u);
}
