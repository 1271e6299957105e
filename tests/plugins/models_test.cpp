// Model plugins: output shapes, feature sizes, parameter counts growing with width, CLS vs GAP.
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

std::shared_ptr<Backbone> build(const std::string& name, const std::map<std::string, std::string>& p) {
    test::TestContext ctx;
    auto m = test::make_plugin<Model>("models", name, ctx, p);
    return m->build({1, 28, 28}, ctx);
}

} // namespace

TEST(Models, MlpParameterCountMatchesTheFormula) {
    for (int64_t w : {16, 32, 1024}) {
        auto bb = build("mlp", {{"width", std::to_string(w)}, {"depth", "2"}});
        EXPECT_EQ(bb->param_count(), 784 * w + w + w * w + w) << w;
        EXPECT_EQ(bb->forward(torch::zeros({3, 1, 28, 28})).sizes(), (std::vector<int64_t>{3, w}));
    }
}

TEST(Models, EveryModelScalesWithWidthAndGivesFeatures) {
    for (const std::string name : {"mlp", "cnn", "resnet", "vit", "mixer"}) {
        auto small = build(name, {{"width", "16"}});
        auto large = build(name, {{"width", "64"}});
        EXPECT_GT(large->param_count(), 4 * small->param_count()) << name;
        auto f = large->forward(torch::randn({2, 1, 28, 28}));
        EXPECT_EQ(f.sizes(), (std::vector<int64_t>{2, large->feature_dim()})) << name;
        EXPECT_TRUE(torch::isfinite(f).all().item<bool>()) << name;
    }
}

TEST(Models, VitPoolsByClsOrGapAndExposesTokens) {
    auto cls = build("vit", {{"width", "32"}, {"pool", "\"cls\""}});
    auto gap = build("vit", {{"width", "32"}, {"pool", "\"gap\""}});
    EXPECT_EQ(cls->param_count(), gap->param_count() + 32 + 32); // the CLS token and its position
    auto x = torch::randn({2, 1, 28, 28});
    auto f = gap->forward(x);
    auto tokens = gap->internals().at("tokens");
    EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{2, 16, 32})); // (28/7)^2 patches
    EXPECT_TRUE(torch::allclose(f, tokens.mean(1)));
    EXPECT_TRUE(torch::equal(gap->internals().at("patch_tokens"), tokens));
    auto fc = cls->forward(x);
    auto cls_tokens = cls->internals().at("tokens");
    EXPECT_EQ(cls_tokens.size(1), 17);
    EXPECT_TRUE(torch::equal(fc, cls_tokens.select(1, 0)));
    EXPECT_TRUE(torch::equal(cls->internals().at("patch_tokens"), cls_tokens.slice(1, 1))); // CLS left out
    EXPECT_EQ(cls->internals().at("attention").sizes(), (std::vector<int64_t>{2, 4, 17, 17}));
}

TEST(Models, VitRefusesWidthNotDivisibleByHeads) {
    test::TestContext ctx;
    EXPECT_THROW(test::make_plugin<Model>("models", "vit", ctx, {{"width", "30"}, {"heads", "4"}}), std::runtime_error);
}

TEST(Models, MixerParameterCountMatchesTheFormula) {
    // patch 7: L = 16 tokens; width w, token MLP w/2, channel MLP 4w, depth 2.
    int64_t w = 32, L = 16, th = w / 2, D = 2;
    auto bb = build("mixer", {{"width", std::to_string(w)}, {"depth", std::to_string(D)}});
    int64_t embed = 49 * w + w;
    int64_t block = 2 * w + (L * th + th) + (th * L + L) + 2 * w + (w * 4 * w + 4 * w) + (4 * w * w + w);
    EXPECT_EQ(bb->param_count(), embed + D * block + 2 * w);
    EXPECT_EQ(bb->param_count(), 19712); // the same, added up by hand
    auto x = torch::randn({2, 1, 28, 28});
    auto f = bb->forward(x);
    EXPECT_TRUE(torch::allclose(f, bb->internals().at("tokens").mean(1))); // global average pooling
    // Token mixing: changing one patch changes every other patch's token after one block.
    auto y = x.clone();
    y.index_put_({0, 0, torch::indexing::Slice(0, 7), torch::indexing::Slice(0, 7)}, 3.0);
    bb->forward(x);
    auto before = bb->internals().at("tokens")[0].clone();
    bb->forward(y);
    auto changed = (bb->internals().at("tokens")[0] - before).abs().sum(1);
    EXPECT_GT(changed.min().item<double>(), 0.0) << "a patch's token did not see the changed patch";
}
