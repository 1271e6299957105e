// The data cache: a benchmark written and mapped back is the same bits; bad files are rebuilt;
// a file that cannot be written leaves the trial its decoded data.
#include <fstream>

#include "exec/worker/data_cache.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("iclr-data-cache-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) {
    if (a.defined() != b.defined()) return false;
    if (!a.defined()) return true;
    return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() && torch::equal(a, b);
}

void expect_same_split(const Split& a, const Split& b) {
    EXPECT_TRUE(same(a.x, b.x));
    EXPECT_TRUE(same(a.y, b.y));
    ASSERT_EQ(a.factors.size(), b.factors.size());
    for (const auto& [k, t] : a.factors)
        EXPECT_TRUE(same(t, b.factors.at(k))) << k;
}

void expect_same(const Benchmark& a, const Benchmark& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.input_shape, b.input_shape);
    EXPECT_EQ(a.num_classes, b.num_classes);
    ASSERT_EQ(a.tasks.size(), b.tasks.size());
    for (size_t i = 0; i < a.tasks.size(); ++i) {
        EXPECT_EQ(a.tasks[i].name, b.tasks[i].name);
        EXPECT_EQ(a.tasks[i].classes, b.tasks[i].classes);
        expect_same_split(a.tasks[i].train, b.tasks[i].train);
        expect_same_split(a.tasks[i].test, b.tasks[i].test);
    }
    ASSERT_EQ(a.shifted_tests.size(), b.shifted_tests.size());
    for (const auto& [k, s] : a.shifted_tests)
        expect_same_split(s, b.shifted_tests.at(k));
}

// Every shape of content a benchmark can have: factors, named shifted tests (names with dots and
// quotes), an empty split, a non-contiguous tensor, and dtypes other than float / int64.
Benchmark odd_benchmark() {
    Benchmark b;
    b.name = "odd \"one\"";
    b.input_shape = {1, 3, 4};
    b.num_classes = 3;
    Task t;
    t.name = "t.0";
    t.classes = {0, 2};
    t.train.x = torch::arange(24, torch::kFloat32).reshape({2, 4, 3}).transpose(1, 2).unsqueeze(1); // not contiguous
    t.train.y = torch::tensor({0, 2}, torch::kInt64);
    t.train.factors["shape"] = torch::tensor({1, 0}, torch::kInt64);
    t.test.x = torch::empty({0, 1, 3, 4});
    t.test.y = torch::empty({0}, torch::kInt64);
    b.tasks.push_back(t);
    b.tasks.push_back(Task{"second", {1}, {}, {}}); // undefined tensors
    b.shifted_tests["rotated.30"] = Split{torch::full({1, 1, 3, 4}, -0.5), torch::tensor({1}, torch::kInt64)};
    b.shifted_tests["a \"quoted\" name"] =
        Split{torch::tensor({1, 2, 255}, torch::kUInt8).reshape({1, 3}), torch::tensor({true}, torch::kBool)};
    return b;
}

} // namespace

TEST(DataCache, WhatIsWrittenMapsBackBitForBit) {
    fs::path dir = scratch("roundtrip");
    Benchmark b = odd_benchmark();
    ASSERT_FALSE(b.tasks[0].train.x.is_contiguous());
    ASSERT_EQ(worker::uncacheable(b), "");
    worker::write_benchmark(b, dir / "b.data");
    auto m = worker::map_benchmark(dir / "b.data");
    ASSERT_TRUE(m);
    expect_same(b, *m);
    EXPECT_EQ(fs::file_size(dir / "b.data") % 64, 0u);
    for (const auto& e : fs::directory_iterator(dir))
        EXPECT_EQ(e.path().filename(), "b.data"); // no temporary left
    fs::remove_all(dir);
}

TEST(DataCache, RealMnistTasksMapBackBitForBit) {
    fs::path dir = scratch("mnist");
    test::TestContext ctx(dir);
    auto ds = test::make_plugin<Dataset>("datasets", "mnist", ctx,
                                         {{"tasks", "[[0, 1], [2, 3]]"}, {"train_per_class", "300"}});
    Benchmark b = ds->load(ctx);
    ASSERT_GT(worker::tensor_bytes(b), worker::kMinCachedBytes);
    worker::write_benchmark(b, dir / "mnist.data");
    auto m = worker::map_benchmark(dir / "mnist.data");
    ASSERT_TRUE(m);
    expect_same(b, *m);
    fs::remove_all(dir);
}

// MAP_PRIVATE: a plugin writing into a mapped tensor changes its own copy, not the file.
TEST(DataCache, WritingIntoAMappedTensorLeavesTheFileAsItWas) {
    fs::path dir = scratch("cow");
    Benchmark b = odd_benchmark();
    worker::write_benchmark(b, dir / "b.data");
    auto m = worker::map_benchmark(dir / "b.data");
    ASSERT_TRUE(m);
    m->shifted_tests["rotated.30"].x.fill_(7.0);
    EXPECT_TRUE(torch::all(m->shifted_tests["rotated.30"].x == 7.0).item<bool>());
    auto again = worker::map_benchmark(dir / "b.data");
    ASSERT_TRUE(again);
    expect_same(b, *again);
    fs::remove_all(dir);
}

TEST(DataCache, TruncatedOrForeignFilesAreNotMapped) {
    fs::path dir = scratch("bad");
    Benchmark b = odd_benchmark();
    worker::write_benchmark(b, dir / "b.data");
    EXPECT_FALSE(worker::map_benchmark(dir / "missing.data"));
    fs::resize_file(dir / "b.data", fs::file_size(dir / "b.data") - 64); // the last tensor's bytes cut off
    EXPECT_FALSE(worker::map_benchmark(dir / "b.data"));
    std::ofstream(dir / "foreign.data") << "not a data cache file, but long enough to have a header";
    EXPECT_FALSE(worker::map_benchmark(dir / "foreign.data"));
    std::ofstream(dir / "short.data") << "ICLR";
    EXPECT_FALSE(worker::map_benchmark(dir / "short.data"));
    fs::remove_all(dir);
}

// The worker's policy: decode once, map after; a full disk (here: a folder that cannot be made)
// costs the cache, never the trial; episodes and small sets are not cached.
TEST(DataCache, LoadCachedDecodesOnceThenMaps) {
    fs::path dir = scratch("policy");
    Benchmark big = odd_benchmark();
    big.tasks[1].train.x = torch::rand({400, 1, 28, 28}); // over kMinCachedBytes
    big.tasks[1].train.y = torch::zeros({400}, torch::kInt64);
    int decoded = 0;
    auto load = [&] {
        ++decoded;
        return big;
    };
    auto first = worker::load_cached(dir, "k", load);
    EXPECT_EQ(first.note, "decoded and written to the data cache (k)");
    auto second = worker::load_cached(dir, "k", load);
    EXPECT_EQ(second.note, "mapped from the data cache (k)");
    EXPECT_EQ(decoded, 1);
    expect_same(big, *first.benchmark);
    expect_same(big, *second.benchmark);

    std::ofstream(dir / "a-file") << "x";
    auto unwritable = worker::load_cached(dir / "a-file" / "data", "k", load);
    EXPECT_EQ(decoded, 2);
    EXPECT_EQ(unwritable.note.rfind("kept in this worker's memory: data cache: creating ", 0), 0u) << unwritable.note;
    expect_same(big, *unwritable.benchmark);

    auto small = worker::load_cached(dir, "small", [] { return odd_benchmark(); });
    EXPECT_EQ(small.note, "not cached: under 1 MiB");
    Benchmark with_episodes = big;
    struct NoEpisodes : EpisodeSampler {
        Episode sample(const std::string&, std::mt19937_64&) override { return {}; }
    };
    with_episodes.episodes = std::make_shared<NoEpisodes>();
    auto episodic = worker::load_cached(dir, "episodes", [&] { return with_episodes; });
    EXPECT_EQ(episodic.note, "not cached: it samples episodes (code, not data)");
    EXPECT_FALSE(fs::exists(dir / "small.data"));
    EXPECT_FALSE(fs::exists(dir / "episodes.data"));
    fs::remove_all(dir);
}
