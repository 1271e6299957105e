// SAM (iclr/sam.hpp) against its closed form on a quadratic, plain and adaptive, around SGD and
// AdamW; and inside the continual loop on real Split MNIST: with rho = 0 it is its base optimiser
// bit for bit, also for methods that draw views, replay samples and mixup coefficients (so SAM's
// second pass repeats the first pass's draws), and nothing is logged twice.
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// L(w) = 1/2 wᵀ A w over two tensors (w = [a; b]), A symmetric positive definite; ∇L = A w.
struct Quadratic {
    Quadratic() {
        torch::manual_seed(3);
        auto m = torch::randn({5, 5}, torch::kDouble);
        A = m.matmul(m.t()) + torch::eye(5, torch::kDouble);
        w0 = torch::randn({5}, torch::kDouble);
        a = w0.slice(0, 0, 2).clone().requires_grad_(true);
        b = w0.slice(0, 2, 5).clone().requires_grad_(true);
    }
    torch::Tensor loss() {
        auto w = torch::cat({a, b});
        return 0.5 * w.dot(A.mv(w));
    }
    torch::Tensor w() const { return torch::cat({a, b}).detach(); }
    torch::Tensor grad(const torch::Tensor& at) const { return A.mv(at); }
    torch::Tensor A, w0, a, b;
};

torch::Tensor sam_step(Quadratic& q, const std::string& base, double lr, SamOptions sam, double wd = 0.0) {
    sam.base = base;
    auto opt = make_optimizer("sam", {q.a, q.b}, lr, 0.0, wd, sam);
    return optimizer_step(*opt, [&] { return q.loss(); });
}

} // namespace

TEST(Sam, SgdStepIsTheClosedForm) {
    Quadratic q;
    double lr = 0.1, rho = 0.05;
    auto loss = sam_step(q, "sgd", lr, {"", rho, false});
    auto g = q.grad(q.w0);
    auto expected = q.w0 - lr * q.grad(q.w0 + rho * g / g.norm());
    EXPECT_TRUE(torch::allclose(q.w(), expected, 1e-12, 1e-12)) << q.w() << expected;
    EXPECT_NEAR(loss.item<double>(), 0.5 * q.w0.dot(q.A.mv(q.w0)).item<double>(), 1e-12); // the loss at w
}

TEST(Sam, AdaptiveStepScalesTheRadiusByTheWeights) {
    Quadratic q;
    double lr = 0.1, rho = 0.5;
    sam_step(q, "sgd", lr, {"", rho, true});
    auto g = q.grad(q.w0);
    auto e = rho * q.w0 * q.w0 * g / (q.w0.abs() * g).norm();
    auto expected = q.w0 - lr * q.grad(q.w0 + e);
    EXPECT_TRUE(torch::allclose(q.w(), expected, 1e-12, 1e-12)) << q.w() << expected;
}

TEST(Sam, AdamWBaseStepsWithThePerturbedGradient) {
    Quadratic q;
    double lr = 0.01, rho = 0.1, wd = 0.05;
    sam_step(q, "adamw", lr, {"", rho, false}, wd);
    // The same AdamW, handed the gradient at w + e by hand.
    auto g = q.grad(q.w0);
    auto g2 = q.grad(q.w0 + rho * g / g.norm());
    auto w = q.w0.clone().requires_grad_(true);
    torch::optim::AdamW ref({w}, torch::optim::AdamWOptions(lr).weight_decay(wd));
    w.mutable_grad() = g2.clone();
    ref.step();
    EXPECT_TRUE(torch::allclose(q.w(), w.detach(), 1e-12, 1e-12)) << q.w() << w;
}

TEST(Sam, RefusesAStepWithoutTheLossAndAnUnknownBase) {
    Quadratic q;
    auto opt = make_optimizer("sam", {q.a, q.b}, 0.1);
    q.loss().backward();
    try {
        opt->step();
        ADD_FAILURE() << "no error";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("needs the loss as a closure"), std::string::npos) << e.what();
    }
    EXPECT_THROW(make_optimizer("sam", {q.a}, 0.1, 0, 0, {"sam", 0.05, false}), PluginError);
    EXPECT_THROW(make_optimizer("sam", {q.a}, 0.1, 0, 0, {"lbfgs", 0.05, false}), PluginError);
}

namespace {

struct Run {
    std::vector<std::vector<torch::Tensor>> snapshots;
    std::vector<test::TestContext::Row> logged;
};

Run run(const std::string& method, std::map<std::string, std::string> params) {
    std::map<std::string, std::string> p{
        {"lr", "0.05"}, {"momentum", "0.9"}, {"epochs", "1"}, {"batch_size", "32"}, {"log_every", "2"}};
    for (auto& [k, v] : params)
        p[k] = v;
    test::TestContext ctx;
    test::SplitMnist s(ctx);
    test::make_plugin<Method>("methods", method, ctx, p)->run(s);
    return {s.snapshots, ctx.logged};
}

bool same(const Run& a, const Run& b) {
    if (a.snapshots.size() != b.snapshots.size()) return false;
    for (size_t t = 0; t < a.snapshots.size(); ++t)
        for (size_t i = 0; i < a.snapshots[t].size(); ++i)
            if (!torch::equal(a.snapshots[t][i], b.snapshots[t][i])) return false;
    return true;
}

// rho = 0: SAM's second pass is at w itself, so its gradient, and the step, are the base's; this
// holds only if the second pass sees the same views, replay samples and mixup draws as the first.
void expect_rho_zero_is_base(const std::string& method, std::map<std::string, std::string> extra) {
    auto base = extra;
    base["optimizer"] = "\"sgd\"";
    auto sam = extra;
    sam["optimizer"] = "\"sam\"";
    sam["sam_base"] = "\"sgd\"";
    sam["sam_rho"] = "0.0";
    auto moved = sam;
    moved["sam_rho"] = "0.05";
    Run a = run(method, base), b = run(method, sam), c = run(method, moved);
    EXPECT_TRUE(same(a, b)) << method << ": SAM with rho = 0 left its base's trajectory";
    EXPECT_FALSE(same(a, c)) << method << ": SAM with rho = 0.05 is its base";
    ASSERT_EQ(a.logged.size(), b.logged.size()) << method << ": SAM logged a different number of rows";
    for (size_t i = 0; i < a.logged.size(); ++i) {
        EXPECT_EQ(a.logged[i].key, b.logged[i].key);
        EXPECT_EQ(a.logged[i].step, b.logged[i].step);
        EXPECT_EQ(a.logged[i].value, b.logged[i].value) << a.logged[i].key << " at step " << a.logged[i].step;
    }
}

} // namespace

TEST(Sam, InTheContinualLoopRhoZeroIsTheBaseBitForBit) {
    expect_rho_zero_is_base("finetune", {});
    expect_rho_zero_is_base("ewc", {{"lambda", "100.0"}});
    expect_rho_zero_is_base("der", {{"alpha", "0.5"}, {"beta", "0.5"}});
}

TEST(Sam, SecondPassRepeatsTheFirstPassDraws) {
    // views (simsiam), buffer samples and Beta draws (lump), the rotation head's own generator (essl)
    expect_rho_zero_is_base("lump", {{"proj_dim", "32"}});
    expect_rho_zero_is_base("essl", {{"proj_dim", "32"}, {"rotate_views", "0.5"}});
}
