// The Hessian tools against the explicit Hessian of a 51-parameter network (every entry by double
// backward, eigenvalues by eigvalsh): Hessian-vector products, both extreme eigenvalues (Lanczos)
// and the dominant one (power iteration) to 1e-4 relative, Hutchinson's trace within its own sampling error, and the
// hessian_eig metric plugin.
#include "iclr/hessian.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// 4 -> 6 (tanh) features, a 3-class head; double precision throughout.
struct TinyBackbone : Backbone {
    TinyBackbone() { fc = register_module("fc", torch::nn::Linear(4, 6)); }
    torch::Tensor forward(const torch::Tensor& x) override { return torch::tanh(fc->forward(x.flatten(1))); }
    int64_t feature_dim() const override { return 6; }
    torch::nn::Linear fc{nullptr};
};
struct TinyLearner : Learner {
    TinyLearner() : b(std::make_shared<TinyBackbone>()), head(torch::nn::Linear(6, 3)) {
        b->to(torch::kDouble);
        head->to(torch::kDouble);
    }
    Backbone& backbone() override { return *b; }
    torch::Tensor logits(const torch::Tensor& x, int64_t) override { return head->forward(b->forward(x)); }
    std::vector<torch::Tensor> trainable() override {
        auto out = b->parameters();
        for (auto& t : head->parameters())
            out.push_back(t);
        return out;
    }
    std::shared_ptr<TinyBackbone> b;
    torch::nn::Linear head;
};

struct Fixture {
    Fixture() {
        torch::manual_seed(5);
        learner = std::make_unique<TinyLearner>();
        x = torch::randn({40, 1, 1, 4}, torch::kDouble);
        y = torch::randint(0, 3, {40}, torch::kLong);
    }
    torch::Tensor loss() { return learner->loss(x, y, -1); }
    // Every entry: d/dtheta_j of (d loss / d theta_i).
    torch::Tensor explicit_hessian() {
        auto params = learner->trainable();
        auto g = torch::autograd::grad({loss()}, params, {}, true, true);
        std::vector<torch::Tensor> flat;
        for (auto& t : g)
            flat.push_back(t.reshape({-1}));
        auto gv = torch::cat(flat);
        std::vector<torch::Tensor> rows;
        for (int64_t i = 0; i < gv.size(0); ++i) {
            auto r = torch::autograd::grad({gv[i]}, params, {}, true, false);
            std::vector<torch::Tensor> row;
            for (auto& t : r)
                row.push_back(t.reshape({-1}));
            rows.push_back(torch::cat(row));
        }
        return torch::stack(rows);
    }
    std::unique_ptr<TinyLearner> learner;
    torch::Tensor x, y;
};

} // namespace

TEST(Hessian, VectorProductsAndExtremeEigenvaluesMatchTheExplicitHessian) {
    Fixture f;
    auto H = f.explicit_hessian();
    ASSERT_EQ(H.size(0), 51);
    EXPECT_TRUE(torch::allclose(H, H.t(), 1e-10, 1e-12)); // symmetric, as it must be
    HessianOperator op(f.loss(), f.learner->trainable());
    auto v = torch::randn({51}, torch::kDouble);
    EXPECT_TRUE(torch::allclose(op.apply(v), torch::matmul(H, v), 1e-9, 1e-12));
    auto eig = torch::linalg_eigvalsh(H, "L");
    double top = eig[-1].item<double>(), bottom = eig[0].item<double>();
    ASSERT_LT(bottom, 0.0) << "a random network sits at a saddle: both signs are tested";
    auto g = make_generator(1);
    auto x = hessian_extremes(op, 1e-12, 200, g); // Lanczos: at most 51 steps span the space
    EXPECT_NEAR(x.max_eig, top, 1e-4 * std::abs(top));
    EXPECT_NEAR(x.min_eig, bottom, 1e-4 * std::abs(bottom));
    EXPECT_LE(x.iterations, 51);
    // Power iteration finds the eigenvalue of largest magnitude.
    double dominant = std::abs(top) >= std::abs(bottom) ? top : bottom;
    auto p = power_iteration(op, 0.0, 1e-12, 20000, g);
    EXPECT_NEAR(p.eigenvalue, dominant, 1e-4 * std::abs(dominant));
}

TEST(Hessian, HutchinsonTraceIsWithinItsSamplingError) {
    Fixture f;
    auto H = f.explicit_hessian();
    HessianOperator op(f.loss(), f.learner->trainable());
    auto g = make_generator(2);
    const int64_t n = 4000;
    double estimate = hutchinson_trace(op, n, g), exact = H.trace().item<double>();
    // Var(z^T H z) = 2 sum_{i != j} H_ij^2 for Rademacher z.
    double off = (H.pow(2).sum() - H.diagonal().pow(2).sum()).item<double>();
    double sd = std::sqrt(2.0 * off / double(n));
    EXPECT_NEAR(estimate, exact, 4.0 * sd) << "sd " << sd;
}

TEST(Hessian, MetricPluginLogsTheExplicitExtremes) {
    Fixture f;
    auto eig = torch::linalg_eigvalsh(f.explicit_hessian(), "L");
    Benchmark b;
    b.num_classes = 3;
    b.input_shape = {1, 1, 4};
    b.tasks.push_back({"t", {0, 1, 2}, {f.x, f.y}, {f.x, f.y}});
    test::TestContext ctx;
    // One batch of all 40 examples (in another order: the mean loss is the same function).
    auto m = test::make_plugin<Metric>(
        "metrics", "hessian_eig", ctx,
        {{"batches", "1"}, {"batch_size", "40"}, {"tol", "1e-12"}, {"max_iter", "20000"}, {"trace_samples", "0"}});
    m->on_event({EventKind::End, 0, 9}, *f.learner, b, ctx);
    std::map<std::string, double> got;
    for (const auto& r : ctx.logged)
        got[r.key] = r.value;
    double top = eig[-1].item<double>(), bottom = eig[0].item<double>();
    EXPECT_NEAR(got.at("hessian_max_eig"), top, 1e-4 * std::abs(top));
    EXPECT_NEAR(got.at("hessian_min_eig"), bottom, 1e-4 * std::abs(bottom));
    EXPECT_NEAR(got.at("hessian_negative_ratio"), -bottom / top, 1e-3);
    EXPECT_EQ(got.count("hessian_trace"), 0u);

    // Asked for three batches of 40 from 40 examples: one is measured and the means are its values.
    test::TestContext short_ctx;
    auto three = test::make_plugin<Metric>(
        "metrics", "hessian_eig", short_ctx,
        {{"batches", "3"}, {"batch_size", "40"}, {"tol", "1e-12"}, {"max_iter", "20000"}, {"trace_samples", "0"}});
    three->on_event({EventKind::End, 0, 9}, *f.learner, b, short_ctx);
    for (const auto& r : short_ctx.logged) {
        if (r.key == "hessian_max_eig") {
            EXPECT_NEAR(r.value, top, 1e-4 * std::abs(top));
        }
    }
}
