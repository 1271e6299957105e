// MAML (iclr/maml.hpp) and its two ICLR 2022 variants: fast weights reach every parameter or the
// model is refused; the second-order outer gradient equals central finite differences on a tiny
// double-precision model and the first-order one is the query gradient at the adapted weights;
// UNICORN's head copies start identical, its outer gradient is the sum over copies, which is zero,
// and it then predicts what a zero head predicts; the zeroing
// trick hands test-time adaptation a zero head; a test episode leaves the learner as it was; and
// the plugins meta-train on real episodes.
#include "iclr/fewshot.hpp"
#include "iclr/maml.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

std::shared_ptr<Backbone> tiny_mlp(test::TestContext& ctx) {
    torch::manual_seed(1);
    auto b = test::make_plugin<Model>("models", "mlp", ctx, {{"width", "3"}, {"depth", "1"}})->build({1, 2, 2}, ctx);
    b->to(torch::kDouble);
    return b;
}

Episode tiny_episode() {
    torch::manual_seed(2);
    auto opts = torch::TensorOptions().dtype(torch::kDouble);
    return {{torch::randn({4, 1, 2, 2}, opts), torch::tensor({0, 1, 0, 1}, torch::kLong)},
            {torch::randn({6, 1, 2, 2}, opts), torch::tensor({0, 1, 1, 0, 1, 0}, torch::kLong)},
            2,
            2};
}

// Every parameter (backbone and head) with its gradient of the outer loss.
std::vector<torch::Tensor> outer_gradient(MamlLearner& learner, torch::nn::Linear& head, const Episode& ep) {
    std::vector<torch::Tensor> params = learner.backbone_parameters();
    params.push_back(head->weight);
    params.push_back(head->bias);
    return torch::autograd::grad({learner.query_loss(ep)}, params);
}

} // namespace

TEST(Maml, FastWeightsReachEveryParameterOrTheModelIsRefused) {
    test::TestContext ctx;
    auto b = tiny_mlp(ctx);
    FastWeights fw(*b, "the test's");
    ASSERT_EQ(fw.parameters().size(), b->parameters().size());
    auto x = torch::randn({3, 1, 2, 2}, torch::kDouble);
    auto before = b->forward(x);
    std::vector<torch::Tensor> zero;
    for (auto& p : fw.parameters())
        zero.push_back(torch::zeros_like(p));
    fw.use(zero);
    EXPECT_EQ(b->forward(x).abs().max().item<double>(), 0.0); // every layer ran on the zero weights
    fw.restore();
    EXPECT_TRUE(torch::equal(b->forward(x), before));
    auto vit = test::make_plugin<Model>("models", "vit", ctx, {{"width", "16"}})->build({1, 28, 28}, ctx);
    EXPECT_THROW(FastWeights(*vit, "vit"), PluginError); // its position table is no module's weight
}

TEST(Maml, SecondOrderGradientEqualsFiniteDifferencesAndFirstOrderDropsTheTerm) {
    test::TestContext ctx;
    auto b = tiny_mlp(ctx);
    torch::nn::Linear head(3, 2);
    head->to(torch::kDouble);
    auto start = [&](int64_t) { return std::vector<torch::Tensor>{head->weight, head->bias}; };
    Episode ep = tiny_episode();
    MamlLearner second(b, "mlp", {2, 2, 0.5, true}, start), first(b, "mlp", {2, 2, 0.5, false}, start);
    auto g2 = outer_gradient(second, head, ep), g1 = outer_gradient(first, head, ep);
    // Central differences of the outer loss in every parameter entry.
    std::vector<torch::Tensor> params = second.backbone_parameters();
    params.push_back(head->weight);
    params.push_back(head->bias);
    double h = 1e-6, worst = 0, scale = 0, fo_gap = 0;
    for (size_t k = 0; k < params.size(); ++k) {
        auto flat = params[k].data().view({-1});
        auto g = g2[k].reshape({-1}), g_fo = g1[k].reshape({-1});
        for (int64_t i = 0; i < flat.size(0); ++i) {
            double v = flat[i].item<double>();
            flat[i] = v + h;
            double up = second.query_loss(ep).item<double>();
            flat[i] = v - h;
            double down = second.query_loss(ep).item<double>();
            flat[i] = v;
            double fd = (up - down) / (2 * h);
            worst = std::max(worst, std::abs(fd - g[i].item<double>()));
            scale = std::max(scale, std::abs(fd));
            fo_gap = std::max(fo_gap, std::abs(fd - g_fo[i].item<double>()));
        }
    }
    EXPECT_LT(worst, 1e-6 * scale) << "second order vs finite differences";
    EXPECT_GT(fo_gap, 1e-3 * scale) << "first order matched the full gradient: the term was not dropped";
    // First order: the gradient of the query loss at the adapted weights, taken as leaves.
    FastWeights fw(*b, "mlp");
    std::vector<torch::Tensor> w = fw.parameters();
    w.push_back(head->weight);
    w.push_back(head->bias);
    size_t n = fw.parameters().size();
    auto logits = [&](const std::vector<torch::Tensor>& ws, const torch::Tensor& x) {
        fw.use(std::vector<torch::Tensor>(ws.begin(), ws.begin() + long(n)));
        return torch::nn::functional::linear(b->forward(x), ws[n], ws[n + 1]);
    };
    auto adapted = inner_loop(
        w, [&](const auto& ws) { return torch::nn::functional::cross_entropy(logits(ws, ep.support.x), ep.support.y); },
        2, 0.5, false);
    std::vector<torch::Tensor> leaves;
    for (auto& a : adapted)
        leaves.push_back(a.detach().requires_grad_(true));
    auto at_adapted =
        torch::autograd::grad({torch::nn::functional::cross_entropy(logits(leaves, ep.query.x), ep.query.y)}, leaves);
    fw.restore();
    for (size_t k = 0; k < g1.size(); ++k)
        EXPECT_TRUE(torch::allclose(g1[k], at_adapted[k], 1e-10, 1e-12)) << k;
}

TEST(Maml, UnicornCopiesStartIdenticalAndTheirGradientsSum) {
    test::TestContext ctx;
    auto b = tiny_mlp(ctx);
    torch::nn::Linear row(3, 1);
    row->to(torch::kDouble);
    Episode ep = tiny_episode();
    auto copies = [&](int64_t ways) {
        return std::vector<torch::Tensor>{row->weight.repeat({ways, 1}), row->bias.repeat({ways})};
    };
    auto h = copies(2);
    EXPECT_TRUE(torch::equal(h[0][0], h[0][1]) && torch::equal(h[1][0], h[1][1]));
    MamlLearner unicorn(b, "mlp", {2, 2, 0.5, true}, copies);
    auto gw = torch::autograd::grad({unicorn.query_loss(ep)}, {row->weight, row->bias});
    // The same start as a leaf head of two rows: its gradient, summed over the rows, is w's.
    auto leaf_w = row->weight.detach().repeat({2, 1}).requires_grad_(true);
    auto leaf_b = row->bias.detach().repeat({2}).requires_grad_(true);
    MamlLearner plain(b, "mlp", {2, 2, 0.5, true}, [&](int64_t) { return std::vector<torch::Tensor>{leaf_w, leaf_b}; });
    auto gl = torch::autograd::grad({plain.query_loss(ep)}, {leaf_w, leaf_b});
    EXPECT_TRUE(torch::allclose(gw[0], gl[0].sum(0, true), 1e-12, 1e-14));
    EXPECT_TRUE(torch::allclose(gw[1], gl[1].sum(0, true), 1e-12, 1e-14));
    EXPECT_FALSE(torch::allclose(gl[0][0], gl[0][1])); // the copies' own gradients differ
    // ... and sum to zero: softmax cross-entropy cannot see a shift every class's logit shares, and
    // a head of identical rows only adds such a shift to what a zero head does. So the learned row
    // gets no gradient, and after adaptation UNICORN predicts exactly what the zeroing trick does.
    EXPECT_LT(gw[0].abs().max().item<double>(), 1e-12 * gl[0].abs().max().item<double>());
    MamlLearner zero(b, "mlp", {2, 2, 0.5, true}, [&](int64_t ways) {
        return std::vector<torch::Tensor>{torch::zeros({ways, 3}, torch::kDouble).requires_grad_(true),
                                          torch::zeros({ways}, torch::kDouble).requires_grad_(true)};
    });
    auto pu = torch::softmax(unicorn.episode_logits(ep), 1), pz = torch::softmax(zero.episode_logits(ep), 1);
    EXPECT_TRUE(torch::allclose(pu, pz, 1e-10, 1e-12)) << pu << pz;
}

TEST(Maml, ATestEpisodeLeavesTheLearnerAsItWas) {
    test::TestContext ctx;
    auto b = test::make_plugin<Model>("models", "resnet", ctx, {{"width", "4"}})->build({1, 28, 28}, ctx);
    b->train(); // batch statistics during adaptation, as Finn et al.; the running ones must not move
    torch::nn::Linear head(b->feature_dim(), 3);
    MamlLearner l(b, "resnet", {1, 3, 0.1, true}, [&](int64_t) {
        return std::vector<torch::Tensor>{head->weight, head->bias};
    });
    std::vector<torch::Tensor> before;
    for (auto& t : b->parameters())
        before.push_back(t.detach().clone());
    for (auto& t : b->buffers())
        before.push_back(t.detach().clone());
    torch::manual_seed(3);
    Episode ep{{torch::randn({6, 1, 28, 28}), torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong)},
               {torch::randn({9, 1, 28, 28}), torch::arange(3).repeat({3})},
               3,
               2};
    auto logits = l.episode_logits(ep);
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{9, 3}));
    std::vector<torch::Tensor> after;
    for (auto& t : b->parameters())
        after.push_back(t.detach().clone());
    for (auto& t : b->buffers())
        after.push_back(t.detach().clone());
    ASSERT_EQ(before.size(), after.size());
    for (size_t k = 0; k < before.size(); ++k)
        EXPECT_TRUE(torch::equal(before[k], after[k])) << k;
}

namespace {

torch::Tensor end_logits(const std::string& method, std::map<std::string, std::string> p) {
    test::TestContext ctx;
    test::FewshotSession s(ctx, "8", {{"per_class", "40"}});
    torch::Tensor logits; // the learner's on one test episode, at End
    s.on_end = [&](Learner& l) {
        auto* el = dynamic_cast<EpisodeLearner*>(&l);
        ASSERT_NE(el, nullptr);
        logits = el->episode_logits(episode_at(*s.benchmark().episodes, "test", 0, 0));
    };
    p.insert({{"meta_steps", "3"}, {"meta_batch", "2"}, {"inner_steps", "1"}, {"log_every", "1"}});
    test::make_plugin<Method>("methods", method, ctx, p)->run(s);
    EXPECT_EQ(test::logged_values(ctx, "train_loss").size(), 3u) << method;
    return logits;
}

} // namespace

TEST(Maml, TheZeroingTrickHandsTestTimeAdaptationAZeroHead) {
    // With no test-time steps the logits are the starting head's: zero under the trick.
    EXPECT_EQ(end_logits("maml", {{"zeroing", "true"}, {"test_inner_steps", "0"}}).abs().max().item<double>(), 0.0);
    EXPECT_GT(end_logits("maml", {{"zeroing", "false"}, {"test_inner_steps", "0"}}).abs().max().item<double>(), 0.0);
    // UNICORN's starting head gives every class the same logit.
    auto u = end_logits("unicorn_maml", {{"test_inner_steps", "0"}});
    EXPECT_TRUE(torch::allclose(u, u.select(1, 0).unsqueeze(1).expand_as(u)));
    EXPECT_GT(end_logits("maml", {{"first_order", "true"}}).abs().max().item<double>(), 0.0);
}
