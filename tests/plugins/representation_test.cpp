// Representation metrics on features with known answers (effective rank of a rank-1 matrix is 1,
// of an isotropic one D; collapsed features have no spread), and the vicreg method's switches.
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// One task whose test images ARE the features [N, 1, 1, D] (FlatLearner flattens them).
Benchmark with_features(const torch::Tensor& f) {
    Benchmark b;
    b.num_classes = 2;
    b.input_shape = {1, 1, f.size(1)};
    auto x = f.view({f.size(0), 1, 1, f.size(1)});
    b.tasks.push_back(
        {"t", {0, 1}, {x, torch::zeros({f.size(0)}, torch::kLong)}, {x, torch::zeros({f.size(0)}, torch::kLong)}});
    return b;
}

// The `collapse` metric's value of `key` on the features f.
double measure(const std::string& key, const torch::Tensor& f) {
    test::TestContext ctx;
    test::FlatLearner learner(f.size(1));
    Benchmark b = with_features(f);
    test::make_plugin<Metric>("metrics", "collapse", ctx)->on_event({EventKind::End, 0, 7}, learner, b, ctx);
    for (const auto& r : ctx.logged)
        if (r.key == key) return r.value;
    ADD_FAILURE() << "collapse logged no " << key;
    return -1;
}

} // namespace

TEST(Representation, EffectiveRankOfRankOneIsOneAndOfAnIsotropicMatrixIsD) {
    torch::manual_seed(0);
    auto u = torch::randn({50, 1}), v = torch::randn({1, 8});
    EXPECT_NEAR(measure("effective_rank", torch::matmul(u, v)), 1.0, 1e-6);
    // Rows of an 8 x 8 identity repeated: equal singular values, rank exactly 8.
    EXPECT_NEAR(measure("effective_rank", torch::eye(8).repeat({4, 1})), 8.0, 1e-9);
    // Two equal singular values and six zero ones: 2.
    auto two = torch::zeros({10, 8});
    two.slice(0, 0, 5).select(1, 0).fill_(1);
    two.slice(0, 5, 10).select(1, 1).fill_(1);
    EXPECT_NEAR(measure("effective_rank", two), 2.0, 1e-9);
}

TEST(Representation, EmbeddingStdIsZeroWhenCollapsedAndKnownForOrthogonalDirections) {
    EXPECT_NEAR(measure("embedding_std", torch::ones({20, 6}) * 3), 0.0, 1e-7);
    // Half the rows e_1, half e_2 (already unit length): dimensions 1 and 2 have sd 0.5 (biased),
    // the other two 0, so the mean is 0.25 and x sqrt(4) = 0.5.
    auto f = torch::zeros({20, 4});
    f.slice(0, 0, 10).select(1, 0).fill_(1);
    f.slice(0, 10, 20).select(1, 1).fill_(1);
    EXPECT_NEAR(measure("embedding_std", f), 0.25, 1e-6);
    EXPECT_NEAR(measure("embedding_std_scaled", f), 0.5, 1e-6);
}

TEST(Representation, VicregCoefficientsAreWhatTrains) {
    // All three terms off: the loss is a constant 0, Adam takes zero steps and the backbone stays
    // as it was built; the variance term alone moves it.
    auto run = [](const std::map<std::string, std::string>& coeffs) {
        test::TestContext ctx;
        test::SplitMnist s(ctx);
        std::vector<torch::Tensor> trained;
        auto overrides = coeffs;
        overrides["epochs"] = "1";
        overrides["batch_size"] = "64";
        overrides["expander_dim"] = "16";
        overrides["log_every"] = "1";
        s.on_task_end = [&](const Event&, Learner& l) {
            for (auto& p : l.backbone().parameters())
                trained.push_back(p.detach().clone());
        };
        torch::manual_seed(0);
        test::make_plugin<Method>("methods", "vicreg", ctx, overrides)->run(s);
        torch::manual_seed(0);
        auto fresh = s.new_backbone();
        bool moved = false;
        auto now = fresh->parameters();
        for (size_t i = 0; i < now.size(); ++i)
            moved = moved || !torch::equal(now[i], trained.at(i));
        int terms = 0;
        for (const auto& r : ctx.logged)
            terms += r.key == "vicreg_variance";
        return std::make_pair(moved, terms);
    };
    auto [off_moved, off_terms] = run({{"inv_coeff", "0.0"}, {"var_coeff", "0.0"}, {"cov_coeff", "0.0"}});
    EXPECT_FALSE(off_moved);
    auto [var_moved, var_terms] = run({{"inv_coeff", "0.0"}, {"var_coeff", "25.0"}, {"cov_coeff", "0.0"}});
    EXPECT_TRUE(var_moved);
    EXPECT_GT(var_terms, 0); // the terms are logged even when their weight is 0
    EXPECT_GT(off_terms, 0);
}
