// BackboneCache: the second request for a key loads the saved weights instead of training, and moves its last use.
#include <sys/stat.h>

#include <chrono>
#include <thread>

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

// Every cache hit moves the backbone file's access time (not its modification time): `iclr cache
// prune` and the cache's size limit remove the least recently used first, and the kernel's relatime
// moves an access time only when it is older than the last change or a day old, so a second use a
// second after the first would leave the time of the first.
TEST(BackboneCache, EachHitMovesTheAccessTimeThatPruningOrdersBy) {
    auto dir = std::filesystem::temp_directory_path() / ("iclr-cache-atime-" + std::to_string(getpid()));
    test::TestContext ctx(dir);
    auto model = test::make_plugin<Model>("models", "mlp", ctx, {{"width", "8"}, {"depth", "1"}});
    auto net = model->build({1, 28, 28}, ctx);
    const std::string key = ContentKey("test").add("atime", 1).hex();
    BackboneCache::load_or_build(ctx, key, *net, [] {});
    const auto file = dir / "backbones" / (key + ".pt");
    auto times = [&] {
        struct stat st {};
        EXPECT_EQ(stat(file.c_str(), &st), 0);
        return std::pair<double, double>{st.st_atim.tv_sec + st.st_atim.tv_nsec * 1e-9,
                                         st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9};
    };
    EXPECT_TRUE(BackboneCache::load_or_build(ctx, key, *net, [] {}));
    auto [used, written] = times();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_TRUE(BackboneCache::load_or_build(ctx, key, *net, [] {}));
    auto [used_again, written_again] = times();
    EXPECT_GE(used_again - used, 1.0) << "the second hit left the access time of the first";
    EXPECT_EQ(written_again, written);
    std::filesystem::remove_all(dir);
}
