// The task-relatedness sweep's two metrics: spectral_complexity's layer norms against power
// iteration on the circular convolution they describe, its R and nearest-prototype margins by hand
// on points whose distances are known; meta_gap is meta-train minus meta-test accuracy on the
// splits named, never the other way round.
#include "../../plugins/metrics/common/episode_accuracy.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// conv (2 -> 3 channels, 3x3, zero padding) -> ReLU -> global mean -> linear (3 -> 4).
struct ConvNet : Backbone {
    ConvNet() {
        conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3).padding(1)));
        fc = register_module("fc", torch::nn::Linear(3, 4));
    }
    torch::Tensor forward(const torch::Tensor& x) override { return fc(torch::relu(conv(x)).mean({2, 3})); }
    int64_t feature_dim() const override { return 4; }
    torch::nn::Conv2d conv{nullptr};
    torch::nn::Linear fc{nullptr};
};

// One bias-free linear layer on flattened inputs: with weight I, features are the points themselves.
struct LinearNet : Backbone {
    explicit LinearNet(int64_t d) {
        fc = register_module("fc", torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
    }
    torch::Tensor forward(const torch::Tensor& x) override { return fc(x.flatten(1)); }
    int64_t feature_dim() const override { return fc->options.out_features(); }
    torch::nn::Linear fc{nullptr};
};

struct NetLearner : Learner {
    explicit NetLearner(std::shared_ptr<Backbone> b) : b(std::move(b)) {}
    std::shared_ptr<Backbone> b;
    Backbone& backbone() override { return *b; }
    torch::Tensor logits(const torch::Tensor& x, int64_t) override { return b->forward(x); }
    std::vector<torch::Tensor> trainable() override { return {}; }
};

// The same episode whatever the split or draw.
struct FixedEpisodes : EpisodeSampler {
    explicit FixedEpisodes(Episode e) : ep(std::move(e)) {}
    Episode sample(const std::string&, std::mt19937_64&) override { return ep; }
    Episode ep;
};

Benchmark benchmark_of(std::shared_ptr<EpisodeSampler> s) {
    Benchmark b;
    b.name = "fixed";
    b.episodes = std::move(s);
    return b;
}

// The largest singular value of x -> conv(x) on a g x g torus (circular padding), by power
// iteration with the adjoint from autograd: nothing shared with the plugin's Fourier route.
double circular_conv_sigma(const torch::Tensor& w, int64_t g) {
    namespace F = torch::nn::functional;
    auto apply = [&](const torch::Tensor& x) {
        return F::conv2d(F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kCircular)), w);
    };
    auto x = torch::randn({1, w.size(1), g, g}, torch::kDouble);
    double sigma = 0;
    for (int i = 0; i < 500; ++i) {
        x = (x / x.norm()).detach().requires_grad_(true);
        auto y = apply(x);
        sigma = y.norm().item<double>();
        auto grad = torch::autograd::grad({0.5 * y.pow(2).sum()}, {x})[0]; // A^T A x
        x = grad;
    }
    return sigma;
}

Episode points(const std::vector<std::array<double, 2>>& s, const std::vector<int64_t>& sy,
               const std::vector<std::array<double, 2>>& q, const std::vector<int64_t>& qy) {
    auto tensor = [](const std::vector<std::array<double, 2>>& p) {
        auto t = torch::empty({int64_t(p.size()), 2});
        for (size_t i = 0; i < p.size(); ++i)
            t[int64_t(i)] = torch::tensor({p[i][0], p[i][1]});
        return t;
    };
    return {{tensor(s), torch::tensor(sy)}, {tensor(q), torch::tensor(qy)}, 2, 1};
}

} // namespace

TEST(SpectralComplexity, LayerNormsMatchPowerIterationOnTheCircularConvolution) {
    test::TestContext ctx;
    torch::manual_seed(4);
    auto net = std::make_shared<ConvNet>();
    NetLearner learner(net);
    auto images = torch::randn({4, 2, 8, 8});
    auto b = benchmark_of(std::make_shared<FixedEpisodes>(
        Episode{{images.slice(0, 0, 2), torch::tensor({0, 1})}, {images.slice(0, 2), torch::tensor({0, 1})}, 2, 1}));
    auto m = test::make_plugin<Metric>("metrics", "spectral_complexity", ctx, {{"grid", "8"}, {"episodes", "3"}});
    m->on_event({EventKind::End, -1, 1}, learner, b, ctx);
    auto wc = net->conv->weight.detach().to(torch::kDouble), wl = net->fc->weight.detach().to(torch::kDouble);
    double s_conv = circular_conv_sigma(wc, 8);
    double s_lin = std::sqrt(torch::linalg::eigvalsh(wl.t().matmul(wl), "L").max().item<double>());
    EXPECT_NEAR(test::logged_values(ctx, "spectral_product").at(0), s_conv * s_lin, 1e-6 * s_conv * s_lin);
    // Rows: one per output channel of the conv (its 2 x 3 x 3 kernel), one per output of fc.
    double r_conv = 0, r_lin = 0;
    for (int64_t o = 0; o < 3; ++o)
        r_conv += std::sqrt(wc[o].pow(2).sum().item<double>());
    for (int64_t o = 0; o < 4; ++o)
        r_lin += std::sqrt(wl[o].pow(2).sum().item<double>());
    double want =
        s_conv * s_lin * std::pow(std::cbrt(std::pow(r_conv / s_conv, 2)) + std::cbrt(std::pow(r_lin / s_lin, 2)), 1.5);
    EXPECT_NEAR(test::logged_values(ctx, "spectral_complexity").at(0), want, 1e-6 * want);
}

TEST(SpectralComplexity, MarginsAndRatioByHandOnKnownPoints) {
    auto net = std::make_shared<LinearNet>(2);
    torch::NoGradGuard no_grad;
    net->fc->weight.copy_(torch::eye(2));
    NetLearner learner(net);
    // Prototypes (0, 0) and (4, 0). Queries: (1, 0) of 0 -> own 1, other 3: margin 2; (3, 0) of 1
    // -> 1 vs 3: 2; (2.5, 0) of 0 -> own 2.5, other 1.5: -1; (0, 3) of 0 -> 3 vs 5: 2.
    auto b = benchmark_of(std::make_shared<FixedEpisodes>(
        points({{0, 0}, {4, 0}}, {0, 1}, {{1, 0}, {3, 0}, {2.5, 0}, {0, 3}}, {0, 1, 0, 0})));
    for (auto [q, gamma] : std::vector<std::pair<std::string, double>>{{"0", -1.0}, {"1", 2.0}, {"0.5", 2.0}}) {
        test::TestContext ctx;
        test::make_plugin<Metric>("metrics", "spectral_complexity", ctx, {{"margin_quantile", q}, {"episodes", "2"}})
            ->on_event({EventKind::End, -1, 1}, learner, b, ctx);
        EXPECT_NEAR(test::logged_values(ctx, "prototype_margin").at(0), gamma, 1e-6) << "quantile " << q;
        // W = I: sigma 1, rows 1 + 1 = 2, R = 1 * (2^(2/3))^(3/2) = 2.
        EXPECT_NEAR(test::logged_values(ctx, "spectral_product").at(0), 1.0, 1e-9);
        EXPECT_NEAR(test::logged_values(ctx, "spectral_complexity").at(0), 2.0, 1e-9);
        auto ratio = test::logged_values(ctx, "spectral_margin_ratio");
        if (gamma > 0) {
            ASSERT_EQ(ratio.size(), 1u);
            EXPECT_NEAR(ratio[0], 2.0 / gamma, 1e-6);
        } else {
            EXPECT_TRUE(ratio.empty()) << "a non-positive margin has no ratio";
        }
    }
}

TEST(SpectralComplexity, ALayerWithoutASpectralNormIsNamed) {
    struct Normed : Backbone {
        Normed() { ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2}))); }
        torch::Tensor forward(const torch::Tensor& x) override { return ln(x.flatten(1)); }
        int64_t feature_dim() const override { return 2; }
        torch::nn::LayerNorm ln{nullptr};
    };
    test::TestContext ctx;
    NetLearner learner(std::make_shared<Normed>());
    auto b = benchmark_of(std::make_shared<FixedEpisodes>(points({{0, 0}, {4, 0}}, {0, 1}, {{1, 0}}, {0})));
    auto m = test::make_plugin<Metric>("metrics", "spectral_complexity", ctx, {});
    try {
        m->on_event({EventKind::End, -1, 1}, learner, b, ctx);
        FAIL() << "no error";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("LayerNorm"), std::string::npos) << e.what();
    }
}

namespace {

// Query images hold 1 on the "train" split and 0 elsewhere; the learner is right exactly on 1s.
struct SplitCoded : EpisodeSampler {
    Episode sample(const std::string& split, std::mt19937_64&) override {
        double v = split == "train" ? 1.0 : 0.0;
        return {{torch::full({2, 1}, v), torch::tensor({0, 1})},
                {torch::full({4, 1}, v), torch::tensor({0, 1, 0, 1})},
                2,
                1};
    }
};
struct RightOnTrain : test::FlatLearner, EpisodeLearner {
    RightOnTrain() : FlatLearner(1) {}
    torch::Tensor episode_logits(const Episode& ep) override {
        auto right = torch::one_hot(ep.query.y, ep.ways).to(torch::kFloat);
        return ep.query.x.mean().item<double>() > 0.5 ? right : right.roll(1, 1);
    }
};

} // namespace

TEST(MetaGap, TrainMinusTestOnTheSplitsNamed) {
    auto b = benchmark_of(std::make_shared<SplitCoded>());
    RightOnTrain learner;
    test::TestContext ctx;
    test::make_plugin<Metric>("metrics", "meta_gap", ctx, {{"episodes", "5"}})
        ->on_event({EventKind::End, -1, 1}, learner, b, ctx);
    EXPECT_DOUBLE_EQ(test::logged_values(ctx, "meta_train_accuracy").at(0), 1.0);
    EXPECT_DOUBLE_EQ(test::logged_values(ctx, "meta_test_accuracy").at(0), 0.0);
    EXPECT_DOUBLE_EQ(test::logged_values(ctx, "meta_gap").at(0), 1.0);
    test::TestContext swapped;
    test::make_plugin<Metric>("metrics", "meta_gap", swapped,
                              {{"episodes", "5"}, {"train_split", "\"val\""}, {"test_split", "\"train\""}})
        ->on_event({EventKind::End, -1, 1}, learner, b, swapped);
    EXPECT_DOUBLE_EQ(test::logged_values(swapped, "meta_gap").at(0), -1.0);
    EXPECT_THROW(test::make_plugin<Metric>("metrics", "meta_gap", ctx, {{"test_split", "\"train\""}}),
                 std::runtime_error);
    test::FlatLearner plain(1);
    EXPECT_THROW(
        test::make_plugin<Metric>("metrics", "meta_gap", ctx, {})->on_event({EventKind::End, -1, 1}, plain, b, ctx),
        PluginError);
}
