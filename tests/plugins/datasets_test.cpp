// Dataset plugins on the real files: class splits, subset sizes, determinism, permuted/rotated streams.
#include <fstream>
#include <set>
#include <string>

#include "iclr/idx.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

std::set<int64_t> labels(const Split& s) {
    auto u = std::get<0>(at::_unique(s.y));
    std::set<int64_t> out;
    for (int64_t i = 0; i < u.size(0); ++i)
        out.insert(u[i].item<int64_t>());
    return out;
}

} // namespace

TEST(Datasets, MnistTwoByFiveSplitHoldsExactlyEachTasksClasses) {
    test::TestContext ctx;
    auto ds = test::make_plugin<Dataset>("datasets", "mnist", ctx, {{"tasks", "[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]"}});
    Benchmark b = ds->load(ctx);
    ASSERT_EQ(b.tasks.size(), 2u);
    EXPECT_EQ(labels(b.tasks[0].train), (std::set<int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(labels(b.tasks[1].test), (std::set<int64_t>{5, 6, 7, 8, 9}));
    // The full official splits: 60,000 training and 10,000 test images between the two tasks.
    EXPECT_EQ(b.tasks[0].train.size() + b.tasks[1].train.size(), 60000);
    EXPECT_EQ(b.tasks[0].test.size() + b.tasks[1].test.size(), 10000);
    EXPECT_EQ(b.tasks[0].train.x.sizes(), (std::vector<int64_t>{b.tasks[0].train.size(), 1, 28, 28}));
    // Normalised with the MNIST statistics: the training set has mean ~0 and sd ~1.
    auto all = torch::cat({b.tasks[0].train.x, b.tasks[1].train.x});
    EXPECT_NEAR(all.mean().item<double>(), 0.0, 0.01);
    EXPECT_NEAR(all.std().item<double>(), 1.0, 0.01);
}

TEST(Datasets, SubsetsAreBalancedAndDeterministic) {
    test::TestContext ctx;
    std::map<std::string, std::string> p{{"tasks", "[[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]"},
                                         {"train_per_class", "100"},
                                         {"test_per_class", "20"},
                                         {"split_seed", "3"}};
    Benchmark a = test::make_plugin<Dataset>("datasets", "mnist", ctx, p)->load(ctx);
    Benchmark b = test::make_plugin<Dataset>("datasets", "mnist", ctx, p)->load(ctx);
    ASSERT_EQ(a.tasks.size(), 5u);
    for (size_t t = 0; t < 5; ++t) {
        EXPECT_EQ(a.tasks[t].train.size(), 200);
        EXPECT_EQ(a.tasks[t].test.size(), 40);
        EXPECT_EQ((a.tasks[t].train.y == int64_t(2 * t)).sum().item<int64_t>(), 100);
        EXPECT_TRUE(torch::equal(a.tasks[t].train.x, b.tasks[t].train.x));
    }
    p["split_seed"] = "4";
    Benchmark c = test::make_plugin<Dataset>("datasets", "mnist", ctx, p)->load(ctx);
    EXPECT_FALSE(torch::equal(a.tasks[0].train.x, c.tasks[0].train.x));
}

TEST(Datasets, PermutedTasksShareLabelsButNotPixels) {
    test::TestContext ctx;
    std::map<std::string, std::string> p{{"tasks", "[[0,1,2,3,4,5,6,7,8,9], [0,1,2,3,4,5,6,7,8,9]]"},
                                         {"train_per_class", "10"},
                                         {"test_per_class", "10"},
                                         {"transform", "\"permute\""}};
    Benchmark b = test::make_plugin<Dataset>("datasets", "mnist", ctx, p)->load(ctx);
    EXPECT_TRUE(torch::equal(b.tasks[0].train.y, b.tasks[1].train.y));
    EXPECT_FALSE(torch::equal(b.tasks[0].train.x, b.tasks[1].train.x));
    // A permutation moves pixels, it does not change them.
    EXPECT_TRUE(torch::equal(std::get<0>(b.tasks[0].train.x.flatten(1).sort(1)),
                             std::get<0>(b.tasks[1].train.x.flatten(1).sort(1))));
}

TEST(Datasets, RotatedTaskIsTheRotatedImage) {
    test::TestContext ctx;
    std::map<std::string, std::string> p{{"tasks", "[[0,1,2,3,4,5,6,7,8,9], [0,1,2,3,4,5,6,7,8,9]]"},
                                         {"train_per_class", "10"},
                                         {"test_per_class", "10"},
                                         {"transform", "\"rotate\""},
                                         {"rotation", "90.0"}};
    Benchmark b = test::make_plugin<Dataset>("datasets", "mnist", ctx, p)->load(ctx);
    // 90 degrees on a square grid is exact up to interpolation at the borders: compare with rot90.
    auto turned = torch::rot90(b.tasks[0].train.x, 1, {2, 3});
    auto turned_other = torch::rot90(b.tasks[0].train.x, -1, {2, 3});
    double d = std::min((turned - b.tasks[1].train.x).abs().mean().item<double>(),
                        (turned_other - b.tasks[1].train.x).abs().mean().item<double>());
    EXPECT_LT(d, 0.05);
    EXPECT_GT((b.tasks[0].train.x - b.tasks[1].train.x).abs().mean().item<double>(), 0.3);
}

TEST(Datasets, FashionMnistHasTenBalancedClasses) {
    test::TestContext ctx;
    Benchmark b = test::make_plugin<Dataset>("datasets", "fashion_mnist", ctx)->load(ctx);
    ASSERT_EQ(b.tasks.size(), 1u);
    EXPECT_EQ(b.tasks[0].train.size(), 60000);
    EXPECT_EQ((b.tasks[0].train.y == 7).sum().item<int64_t>(), 6000);
    EXPECT_EQ(labels(b.tasks[0].test).size(), 10u);
}

// The in-domain pretraining set of the forgetting sweep: all ten digits, the 1,000 images per class
// after the ones the 2 x 5 tasks train on. MNIST's 60,000 training images are pairwise distinct, so
// sharing an image means sharing an example.
TEST(Datasets, SkippedWindowSharesNoImageWithTheTasksSubset) {
    test::TestContext ctx;
    auto rows = [](const Split& s) {
        std::set<std::string> out;
        auto x = s.x.contiguous();
        auto bytes = size_t(x[0].numel()) * sizeof(float);
        for (int64_t i = 0; i < x.size(0); ++i)
            out.insert(std::string(reinterpret_cast<const char*>(x[i].data_ptr<float>()), bytes));
        return out;
    };
    Benchmark tasks =
        test::make_plugin<Dataset>("datasets", "mnist", ctx,
                                   {{"tasks", "[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]"}, {"train_per_class", "1000"}})
            ->load(ctx);
    Benchmark pre =
        test::make_plugin<Dataset>("datasets", "mnist", ctx, {{"train_per_class", "1000"}, {"train_skip", "1000"}})
            ->load(ctx);
    auto seen = rows(tasks.tasks[0].train);
    seen.merge(rows(tasks.tasks[1].train));
    ASSERT_EQ(seen.size(), 10000u);
    auto later = rows(pre.tasks[0].train);
    ASSERT_EQ(later.size(), 10000u);
    EXPECT_EQ(labels(pre.tasks[0].train).size(), 10u);
    size_t shared = 0;
    for (const auto& r : later)
        shared += seen.count(r);
    EXPECT_EQ(shared, 0u);
    // Without the skip the same request draws exactly the tasks' images: one order per class,
    // whatever the task layout.
    Benchmark again = test::make_plugin<Dataset>("datasets", "mnist", ctx, {{"train_per_class", "1000"}})->load(ctx);
    EXPECT_EQ(rows(again.tasks[0].train), seen);
    EXPECT_THROW(test::make_plugin<Dataset>("datasets", "mnist", ctx, {{"train_skip", "6000"}})->load(ctx),
                 PluginError);
}

TEST(Datasets, BadTaskClassesAreRefused) {
    test::TestContext ctx;
    EXPECT_THROW(test::make_plugin<Dataset>("datasets", "mnist", ctx, {{"tasks", "[[0, 12]]"}}), std::runtime_error);
}

// The IDX files are mapped, not read, and normalised through a 256-entry table: every float must be
// the one the four tensor operations give (u / 255 - mean) / sd, bit for bit, on all of MNIST.
TEST(Datasets, MappedFilesAndTheLookupNormalisationGiveTheArithmeticsBits) {
    test::TestContext ctx;
    auto dir = ctx.data_dir() / "mnist";
    auto u8 = idx::read(dir / "train-images-idx3-ubyte");
    ASSERT_EQ(u8.sizes(), (std::vector<int64_t>{60000, 28, 28}));
    EXPECT_EQ(u8.dtype(), torch::kUInt8);
    auto ref = u8.to(torch::kFloat32).div_(255.0).sub_(0.1307).div_(0.3081).unsqueeze(1);
    auto ours = idx::normalised(u8, 0.1307, 0.3081);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_TRUE(torch::equal(ours.view(torch::kInt32), ref.view(torch::kInt32))); // bits, not values
    // Chosen rows straight from the file: the same bits as choosing the uint8 rows first.
    auto rows = torch::tensor({59999, 0, 17, 17, 31000}, torch::kInt64);
    auto picked = idx::normalised_rows(u8, rows, 0.1307, 0.3081);
    ASSERT_EQ(picked.sizes(), (std::vector<int64_t>{5, 1, 28, 28}));
    EXPECT_TRUE(torch::equal(picked.view(torch::kInt32), ref.index_select(0, rows).view(torch::kInt32)));
    EXPECT_EQ(idx::normalised_rows(u8, torch::empty({0}, torch::kInt64), 0.1307, 0.3081).size(0), 0);
    // A copy-on-write mapping: changing the tensor never reaches the file.
    u8[0][0][0] = 255;
    EXPECT_EQ(idx::read(dir / "train-images-idx3-ubyte")[0][0][0].item<int>(), 0);
}

TEST(Datasets, ATruncatedOrForeignIdxFileIsRefusedInOneLine) {
    auto dir = std::filesystem::temp_directory_path() / "iclr-idx-test";
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& bytes) {
        std::ofstream(dir / name, std::ios::binary) << bytes;
        return dir / name;
    };
    auto expect_error = [](const std::filesystem::path& f, const std::string& what) {
        try {
            idx::read(f);
            ADD_FAILURE() << f << " was accepted";
        } catch (const PluginError& e) {
            EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        }
    };
    expect_error(write("truncated", std::string("\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", 10)), "truncated");
    expect_error(write("foreign", "PK\x03\x04 a zip file"), "not an unsigned-byte IDX file");
    expect_error(write("empty", ""), "cannot map");
    expect_error(dir / "missing", "cannot read");
}
