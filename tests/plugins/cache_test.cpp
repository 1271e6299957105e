// BackboneCache: the second request for a key loads the saved weights instead of training.
#include "plugin_test_util.hpp"

using namespace iclr;

TEST(BackboneCache, SecondUseLoadsTheSameWeights) {
    auto dir = std::filesystem::temp_directory_path() / ("iclr-cache-test-" + std::to_string(getpid()));
    test::TestContext ctx(dir);
    auto model = test::make_plugin<Model>("models", "mlp", ctx, {{"width", "8"}, {"depth", "1"}});
    auto a = model->build({1, 28, 28}, ctx);
    std::string key = BackboneCache::key({"test", "mlp 8", "seed 0"});
    EXPECT_NE(key, BackboneCache::key({"test", "mlp 8", "seed 1"}));
    EXPECT_NE(BackboneCache::key({"ab", "c"}), BackboneCache::key({"a", "bc"}));
    int trained = 0;
    bool hit = BackboneCache::load_or_build(ctx, key, *a, [&] {
        ++trained;
        torch::NoGradGuard g;
        for (auto& p : a->parameters())
            p.fill_(0.25);
    });
    EXPECT_FALSE(hit);
    EXPECT_EQ(ctx.attributes["cache_hit"], "0");
    auto b = model->build({1, 28, 28}, ctx); // fresh random weights
    hit = BackboneCache::load_or_build(ctx, key, *b, [&] { ++trained; });
    EXPECT_TRUE(hit);
    EXPECT_EQ(trained, 1);
    EXPECT_EQ(ctx.attributes["cache_key"], key);
    for (auto& p : b->parameters())
        EXPECT_TRUE(torch::all(p == 0.25).item<bool>());
    std::filesystem::remove_all(dir);
}
