// The data cache: a benchmark written and mapped back is the same bits; bad files are rebuilt;
// a file that cannot be written leaves the trial its decoded data.
#include <fcntl.h>
#include <sys/stat.h>

#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "exec/worker/data_cache.hpp"
#include "exec/worker/decode_arena.hpp"
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

// This process's anonymous resident memory (heap, private pages), in bytes.
int64_t rss_anon() {
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8)) * 1024;
    return -1;
}

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// A benchmark decoded the way a data set plugin does it: big tensors made inside load(), a big
// temporary made and dropped on the way, small label tensors.
Benchmark decode_like_a_plugin(int64_t rows, double* sum, torch::Tensor* head, int64_t* anon_growth) {
    int64_t before = rss_anon();
    torch::Tensor scratch = torch::ones({rows / 2, 784}); // a temporary, freed before load returns
    torch::Tensor x = torch::rand({rows, 784}) - scratch.sum(0) / double(rows);
    scratch = torch::Tensor();
    *anon_growth = rss_anon() - before;
    *sum = x.sum().item<double>();
    *head = x.slice(0, 0, 4).clone(); // 12 KiB: from the ordinary allocator
    Benchmark b;
    b.name = "decoded";
    b.input_shape = {1, 28, 28};
    b.num_classes = 10;
    Task t{"all", {0, 1}, {}, {}};
    t.train.x = x.view({rows, 1, 28, 28});
    t.train.y = torch::randint(0, 2, {rows}, torch::kInt64);
    t.test.x = x.slice(0, 0, rows / 4).view({rows / 4, 1, 28, 28}); // a view into the same region
    t.test.y = t.train.y.slice(0, 0, rows / 4);
    b.tasks.push_back(t);
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
    for (const auto& t : {m->tasks[0].train.x, m->tasks[0].train.y, m->shifted_tests["rotated.30"].x})
        EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, 0u); // aligned for vector loads
    EXPECT_EQ(files_in(dir), std::vector<std::string>{"b.data"});      // no temporary left
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

// Every use of a cache file moves its access time (not its modification time): `iclr cache prune`
// removes the least recently used first, and the kernel's relatime moves an access time only when it
// is older than the last change or a day old, so a second use a second later would leave it as it was.
TEST(DataCache, EachMappingMovesTheAccessTimeThatPruningOrdersBy) {
    fs::path dir = scratch("atime");
    Benchmark big = odd_benchmark();
    big.tasks[1].train.x = torch::rand({400, 1, 28, 28}); // over kMinCachedBytes
    big.tasks[1].train.y = torch::zeros({400}, torch::kInt64);
    auto load = [&] { return big; };
    worker::load_cached(dir, "k", load);
    auto times = [&] {
        struct stat st {};
        EXPECT_EQ(stat((dir / "k.data").c_str(), &st), 0);
        return std::pair<double, double>{st.st_atim.tv_sec + st.st_atim.tv_nsec * 1e-9,
                                         st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9};
    };
    EXPECT_EQ(worker::load_cached(dir, "k", load).note, "mapped from the data cache (k)");
    auto [used, written] = times();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(worker::load_cached(dir, "k", load).note, "mapped from the data cache (k)");
    auto [used_again, written_again] = times();
    EXPECT_GE(used_again - used, 1.0) << "the second use left the access time of the first";
    EXPECT_EQ(written_again, written);
    fs::remove_all(dir);
}

// A data set is decoded into the file that becomes the cache file: its large tensors never sit in
// the worker's private memory, a temporary's disk blocks go back, and what maps back is the same.
TEST(DataCache, ADecodedSetIsPagesOfTheCacheFileNotPrivateMemory) {
    fs::path dir = scratch("arena");
    c10::Allocator* before = c10::GetCPUAllocator();
    const int64_t rows = 20000; // 63 MB of float32, and a 31 MB temporary
    double sum = 0;
    torch::Tensor head;
    int64_t growth = 0;
    auto c = worker::load_cached(dir, "k", [&] { return decode_like_a_plugin(rows, &sum, &head, &growth); });
    EXPECT_EQ(c.note, "decoded and written to the data cache (k)");
    EXPECT_LT(growth, 8 << 20) << "decoding grew private memory by " << growth << " bytes";
    EXPECT_EQ(c10::GetCPUAllocator(), before);
    const Task& t = c.benchmark->tasks.at(0);
    EXPECT_EQ(t.train.x.sum().item<double>(), sum);
    EXPECT_TRUE(torch::equal(t.train.x.view({rows, 784}).slice(0, 0, 4), head));
    EXPECT_TRUE(torch::equal(t.test.x, t.train.x.slice(0, 0, rows / 4)));
    EXPECT_TRUE(torch::equal(t.test.y, t.train.y.slice(0, 0, rows / 4)));
    EXPECT_EQ(files_in(dir), (std::vector<std::string>{"k.data", "k.data.lock"}));
    struct stat st {};
    ASSERT_EQ(stat((dir / "k.data").c_str(), &st), 0);
    int64_t x_bytes = rows * 784 * 4, temporary_bytes = rows / 2 * 784 * 4;
    EXPECT_GE(int64_t(st.st_size), x_bytes + temporary_bytes); // the temporary's range is a hole
    EXPECT_LT(int64_t(st.st_blocks) * 512, x_bytes + (2 << 20)) << "the temporary's blocks were not given back";
    auto again = worker::map_benchmark(dir / "k.data");
    ASSERT_TRUE(again);
    expect_same(*c.benchmark, *again);
    fs::remove_all(dir);
}

// A plugin that keeps a decoded tensor past load() (in a static, say) and writes into it later
// changes its own copy: the file the node's other workers map keeps the decoded bytes.
TEST(DataCache, WritingIntoAKeptDecodedTensorLeavesTheCacheFileAsItWas) {
    fs::path dir = scratch("kept");
    const int64_t rows = 1000;
    double sum = 0;
    torch::Tensor head, kept;
    int64_t growth = 0;
    auto c = worker::load_cached(dir, "k", [&] {
        Benchmark b = decode_like_a_plugin(rows, &sum, &head, &growth);
        kept = b.tasks.at(0).train.x; // pages of the arena's file, alive after the decode
        return b;
    });
    ASSERT_EQ(c.note, "decoded and written to the data cache (k)");
    kept.fill_(7.0f);
    EXPECT_TRUE(torch::all(kept == 7.0f).item<bool>()); // the plugin sees what it wrote
    auto again = worker::map_benchmark(dir / "k.data");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->tasks.at(0).train.x.sum().item<double>(), sum);
    EXPECT_TRUE(torch::equal(again->tasks.at(0).train.x.view({rows, 784}).slice(0, 0, 4), head));
    kept = torch::Tensor();
    fs::remove_all(dir);
}

TEST(DataCache, AThrowingDecodeLeavesNoFileAndTheAllocatorAsItWas) {
    fs::path dir = scratch("throw");
    c10::Allocator* before = c10::GetCPUAllocator();
    EXPECT_THROW(worker::load_cached(dir, "k",
                                     []() -> Benchmark {
                                         torch::Tensor big = torch::zeros({1000, 784}); // in the file
                                         if (big.numel() > 0) throw std::runtime_error("bad IDX file");
                                         return Benchmark{};
                                     }),
                 std::runtime_error);
    EXPECT_EQ(c10::GetCPUAllocator(), before);
    EXPECT_EQ(files_in(dir), std::vector<std::string>{"k.data.lock"});
    torch::Tensor after = torch::zeros({1000, 784}); // the ordinary allocator again
    EXPECT_EQ(after.sum().item<float>(), 0.0f);
    fs::remove_all(dir);
}

// A writer killed mid-write leaves its temporary file; the next holder of the key's lock removes it.
TEST(DataCache, TemporariesOfKilledWritersAreRemoved) {
    fs::path dir = scratch("stale");
    std::ofstream(dir / "k.data.tmp.99999999") << std::string(4096, 'x');
    std::ofstream(dir / "other.data.tmp.99999999") << "another key's: its own lock holder's business";
    double sum = 0;
    torch::Tensor head;
    int64_t growth = 0;
    auto c = worker::load_cached(dir, "k", [&] { return decode_like_a_plugin(1000, &sum, &head, &growth); });
    EXPECT_EQ(c.note, "decoded and written to the data cache (k)");
    EXPECT_EQ(files_in(dir), (std::vector<std::string>{"k.data", "k.data.lock", "other.data.tmp.99999999"}));
    fs::remove_all(dir);
}

// A full disk while decoding into the file: the allocations fall back to memory (no SIGBUS), the
// trial gets its data, and nothing is left behind.
TEST(DataCache, AFullDiskWhileDecodingFallsBackToMemory) {
    if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    fs::path dir = scratch("full");
    if (std::system(("mount -t tmpfs -o size=1M tmpfs " + dir.string() + " 2>/dev/null").c_str()) != 0)
        GTEST_SKIP() << "this sandbox does not allow mounting a tmpfs";
    double sum = 0;
    torch::Tensor head;
    int64_t growth = 0;
    auto c = worker::load_cached(dir, "k", [&] { return decode_like_a_plugin(2000, &sum, &head, &growth); });
    EXPECT_EQ(c.note.rfind("kept in this worker's memory: data cache: writing ", 0), 0u) << c.note;
    EXPECT_EQ(c.benchmark->tasks.at(0).train.x.sum().item<double>(), sum);
    EXPECT_TRUE(torch::equal(c.benchmark->tasks.at(0).train.x.view({2000, 784}).slice(0, 0, 4), head));
    EXPECT_EQ(files_in(dir), std::vector<std::string>{"k.data.lock"});
    std::system(("umount " + dir.string()).c_str());
    fs::remove_all(dir);
}
