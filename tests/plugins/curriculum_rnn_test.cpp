// Kepple et al.'s pieces: the rate RNN's Euler steps by hand, the representation-based loss on
// hand-computed states (and its gradient against finite differences), linear CKA's closed forms;
// glimpse_evidence's labels traced back to the MNIST digits each glimpse shows; curriculum_rnn
// end to end: learning times where a task is learnable and where the criterion is never met.
#include <unordered_map>

#include "../../plugins/methods/curriculum_rnn/rate_rnn.hpp"
#include "benchmark_session.hpp"
#include "iclr/idx.hpp"

using namespace iclr;
using namespace curriculum_rnn;

TEST(CurriculumRnn, RateRnnTakesEulerStepsFromZero) {
    torch::manual_seed(1);
    RateRnn rnn(3, 2, 0.25);
    auto x = torch::randn({1, 2, 3});
    auto h = rnn(x);
    auto U = rnn->U->weight, b = rnn->U->bias, W = rnn->W->weight;
    auto x1 = x[0][0], x2 = x[0][1];
    auto h1 = 0.25 * torch::tanh(U.matmul(x1) + b);
    auto h2 = 0.75 * h1 + 0.25 * torch::tanh(W.matmul(h1) + U.matmul(x2) + b);
    EXPECT_TRUE(torch::allclose(h[0][0], h1, 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(h[0][1], h2, 1e-6, 1e-6));
}

TEST(CurriculumRnn, RepresentationLossByHandAndItsGradient) {
    // States (1, 0), (0, 2), (1, 1), labels 0, 1, 0: cosines 0, 1/sqrt2, 1/sqrt2 off the diagonal
    // against wanted 0, 1, 0 -> off-diagonal errors (1/sqrt2 - 1)^2 and (1/sqrt2)^2, twice each.
    auto h = torch::tensor({{1.0, 0.0}, {0.0, 2.0}, {1.0, 1.0}}, torch::kDouble);
    auto y = torch::tensor({0, 1, 0});
    double r = 1 / std::sqrt(2.0);
    double want = 2 * (std::pow(r - 1, 2) + r * r) / 9.0;
    EXPECT_NEAR(representation_loss(h, y).item<double>(), want, 1e-12);
    auto hg = torch::randn({5, 3}, torch::kDouble).requires_grad_(true);
    auto yg = torch::tensor({0, 1, 1, 0, 1});
    auto grad = torch::autograd::grad({representation_loss(hg, yg)}, {hg})[0];
    for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = 0; j < 3; ++j) {
            auto up = hg.detach().clone(), down = hg.detach().clone();
            up[i][j] += 1e-6;
            down[i][j] -= 1e-6;
            double fd =
                (representation_loss(up, yg).item<double>() - representation_loss(down, yg).item<double>()) / 2e-6;
            EXPECT_NEAR(grad[i][j].item<double>(), fd, 1e-6) << i << "," << j;
        }
}

TEST(CurriculumRnn, LinearCkaClosedForms) {
    torch::manual_seed(2);
    auto x = torch::randn({200, 4}, torch::kDouble);
    auto q = std::get<0>(torch::linalg::qr(torch::randn({4, 4}, torch::kDouble)));
    EXPECT_NEAR(linear_cka(x, 3.0 * x.matmul(q) + 1.0), 1.0, 1e-9) << "rotation, scale and shift invariant";
    // One feature each: CKA is the squared Pearson correlation.
    auto a = torch::randn({500, 1}, torch::kDouble), b = 0.5 * a + torch::randn({500, 1}, torch::kDouble);
    auto ac = a - a.mean(), bc = b - b.mean();
    double corr =
        (ac * bc).sum().item<double>() / std::sqrt((ac * ac).sum().item<double>() * (bc * bc).sum().item<double>());
    EXPECT_NEAR(linear_cka(a, b), corr * corr, 1e-9);
}

namespace {

// Every 2x2-pooled MNIST training image of a digit, bytes -> digit.
std::unordered_map<std::string, int64_t> pooled_digits(const std::filesystem::path& dir, std::vector<int64_t> digits) {
    auto x = idx::read(dir / "train-images-idx3-ubyte").to(torch::kFloat32).div_(255.0).unsqueeze(1);
    auto y = idx::read(dir / "train-labels-idx1-ubyte").to(torch::kInt64);
    std::unordered_map<std::string, int64_t> out;
    for (int64_t d : digits) {
        auto p = torch::avg_pool2d(x.index_select(0, torch::nonzero(y == d).flatten()), 2).flatten(1).contiguous();
        for (int64_t i = 0; i < p.size(0); ++i)
            out[std::string(static_cast<const char*>(p[i].data_ptr()), 196 * sizeof(float))] = d;
    }
    return out;
}

} // namespace

TEST(GlimpseEvidence, LabelsAreTheDigitShownMoreOften) {
    test::TestContext ctx;
    auto b = test::make_plugin<Dataset>("datasets", "glimpse_evidence", ctx,
                                        {{"noise", "0"},
                                         {"digit_a", "3"},
                                         {"digit_b", "8"},
                                         {"easy_coherence", "1"},
                                         {"coherence", "0.6"},
                                         {"levels", "3"},
                                         {"train_trials", "2000"}})
                 ->load(ctx);
    ASSERT_EQ(b.tasks.size(), 4u);
    auto pools = pooled_digits(ctx.data_dir() / "mnist", {3, 8});
    auto shown = [&](const torch::Tensor& g) {
        auto c = g.contiguous();
        auto it = pools.find(std::string(static_cast<const char*>(c.data_ptr()), 196 * sizeof(float)));
        return it == pools.end() ? int64_t(-1) : (it->second == 3 ? 0 : 1);
    };
    EXPECT_EQ(b.tasks[0].train.x.size(1), 1);
    for (int64_t i = 0; i < 200; ++i)
        ASSERT_EQ(shown(b.tasks[0].train.x[i][0]), b.tasks[0].train.y[i].item<int64_t>()) << "single glimpse " << i;
    // Coherence 1: every glimpse of a trial is the same digit. Coherence 0.6: the share of glimpses
    // showing the label's digit is max(k, 9 - k) / 9 with k ~ Binomial(9, 0.6) on average.
    double expected = 0;
    for (int k = 0; k <= 9; ++k) {
        double pk = std::tgamma(10.0) / (std::tgamma(k + 1.0) * std::tgamma(10.0 - k)) * std::pow(0.6, k) *
                    std::pow(0.4, 9 - k);
        expected += pk * std::max(k, 9 - k) / 9.0;
    }
    for (size_t t : {size_t(1), size_t(3)}) {
        const auto& s = b.tasks[t].train;
        ASSERT_EQ(s.x.size(1), 9);
        double agree = 0;
        for (int64_t i = 0; i < s.size(); ++i) {
            int64_t ones = 0;
            for (int64_t g = 0; g < 9; ++g) {
                int64_t d = shown(s.x[i][g]);
                ASSERT_GE(d, 0) << "glimpse is no pooled MNIST 3 or 8";
                ones += d;
            }
            EXPECT_EQ(s.y[i].item<int64_t>(), ones >= 5 ? 1 : 0) << "trial " << i;
            agree += double(s.y[i].item<int64_t>() == 1 ? ones : 9 - ones) / 9.0;
            if (t == 1) {
                ASSERT_TRUE(ones == 0 || ones == 9) << "coherence 1 mixes digits";
            }
        }
        // 2,000 trials: sd of the mean about 0.1 / sqrt(2000) = 0.002.
        if (t == 3) {
            EXPECT_NEAR(agree / double(s.size()), expected, 0.01);
        }
    }
    EXPECT_THROW(test::make_plugin<Dataset>("datasets", "glimpse_evidence", ctx, {{"glimpses", "4"}}),
                 std::runtime_error);
}

namespace {

test::BenchmarkSession glimpses(test::TestContext& c, std::map<std::string, std::string> data) {
    return {c, test::make_plugin<Dataset>("datasets", "glimpse_evidence", c, std::move(data))->load(c)};
}

} // namespace

TEST(CurriculumRnn, BothRulesLearnAnEasyTaskAndAnUnreachableCriterionIsCensored) {
    std::map<std::string, std::string> easy{{"noise", "1"},    {"coherence", "0.8"},    {"easy_coherence", "1"},
                                            {"glimpses", "5"}, {"train_trials", "400"}, {"test_trials", "200"}};
    for (std::string curriculum : {"none", "easy_to_hard", "staged"}) {
        test::TestContext ctx;
        auto s = glimpses(ctx, easy);
        test::make_plugin<Method>(
            "methods", "curriculum_rnn", ctx,
            {{"curriculum", "\"" + curriculum + "\""}, {"hidden", "16"}, {"max_steps", "600"}, {"criterion", "0.8"}})
            ->run(s);
        for (std::string rule : {"target", "representation"}) {
            double t = test::logged_values(ctx, "learning_time_" + rule).at(0);
            EXPECT_GT(t, 0) << curriculum << " " << rule << ": chance at step 0";
            EXPECT_LT(t, 600) << curriculum << " " << rule << " never learned a 5-glimpse task at coherence 0.8";
            EXPECT_GE(test::logged_values(ctx, "accuracy_" + rule).at(0), 0.8);
        }
        double between = test::logged_values(ctx, "cka_between").at(0),
               within = test::logged_values(ctx, "cka_within").at(0);
        EXPECT_GT(between, 0.0);
        EXPECT_LE(between, 1.0 + 1e-9);
        EXPECT_LE(within, 1.0 + 1e-9);
    }
    test::TestContext ctx;
    auto noisy = easy;
    noisy["noise"] = "10"; // glimpses drowned: no network reaches 100% on 200 test trials
    auto s = glimpses(ctx, noisy);
    test::make_plugin<Method>("methods", "curriculum_rnn", ctx,
                              {{"criterion", "1"}, {"max_steps", "30"}, {"hidden", "4"}})
        ->run(s);
    EXPECT_DOUBLE_EQ(test::logged_values(ctx, "learning_time_target_0").at(0), 30.0) << "censored at max_steps";
}
