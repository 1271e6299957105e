// BackboneCache: the second request for a key loads the saved weights instead of training.
#include "plugin_test_util.hpp"

using namespace iclr;

TEST(BackboneCache, SecondUseLoadsTheSameWeights) {
    auto dir = std::filesystem::temp_directory_path() / ("iclr-cache-test-" + std::to_string(getpid()));
    test::TestContext ctx(dir);
    auto model = test::make_plugin<Model>("models", "mlp", ctx, {{"width", "8"}, {"depth", "1"}});
    auto a = model->build({1, 28, 28}, ctx);
    std::string key = ContentKey("test").add("model", "mlp 8").add("seed", 0).hex();
    EXPECT_NE(key, ContentKey("test").add("model", "mlp 8").add("seed", 1).hex());
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

// Keys write every value exactly: the old std::to_string(double) keys gave 2e-7 and 4e-7 (and any
// two values that differ past the sixth decimal) the same cached backbone.
TEST(ContentKey, ValuesDifferingInTheSeventhSignificantDigitGetDifferentKeys) {
    EXPECT_EQ(std::to_string(2e-7), std::to_string(4e-7)); // the bug this replaces
    EXPECT_NE(ContentKey("k").add("lr", 2e-7).hex(), ContentKey("k").add("lr", 4e-7).hex());
    EXPECT_NE(ContentKey("k").add("lr", 0.1234567).hex(), ContentKey("k").add("lr", 0.1234568).hex());
    EXPECT_EQ(ContentKey("k").add("lr", 0.1).text(), "purpose=k\x1flr=0.1\x1f");
    EXPECT_EQ(ContentKey::format(2e-7), "2e-07");
    EXPECT_EQ(ContentKey::format(1.0 / 3.0), "0.3333333333333333");
    EXPECT_NE(ContentKey("k").add("a", "b").add("c", "").hex(), ContentKey("k").add("a", "").add("c", "b").hex());
    EXPECT_NE(ContentKey("k").add("n", 1).hex(), ContentKey("k").add("n", 1.5).hex());
    EXPECT_EQ(ContentKey("k").add("seed", uint64_t(7)).hex(), ContentKey("k").add("seed", 7).hex());
    EXPECT_EQ(ContentKey("k").hex().size(), 32u);
}
