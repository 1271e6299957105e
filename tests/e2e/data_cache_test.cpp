// The data cache through `iclr run`: a later run maps what an earlier one decoded, with the same
// metrics to the bit; a damaged cache file is decoded again, not trusted.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;
namespace fs = std::filesystem;

namespace {

// 800 training images (2.5 MB as float): over the cache's 1 MiB floor. Two workers: both go
// through the cache's lock in the first run.
std::string sweep(const Scratch& s) {
    return s.write("cached.toml", R"([sweep]
name = "cached"
seeds = 2
jobs = 2
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 200
test_per_class = 50
[model]
plugin = "mlp"
width = 16
[method]
plugin = "finetune"
epochs = 1
[[metric]]
plugin = "accuracy_matrix"
)");
}

std::string metrics(const std::string& db) {
    return Scratch::sql_in(db,
                           "SELECT GROUP_CONCAT(v, ' ') FROM (SELECT r.seed || ':' || m.key || ':' || m.step || ':' "
                           "|| IFNULL(m.task, '') || '=' || printf('%.17g', m.value) AS v FROM metrics m JOIN "
                           "runs r ON r.id = m.run_id ORDER BY r.seed, m.key, m.step, m.task)");
}

int64_t logs_saying(const std::string& db, const std::string& text) {
    return std::atoll(Scratch::sql_in(db, "SELECT COUNT(*) FROM runs WHERE log_tail LIKE '%" + text + "%'").c_str());
}

std::vector<fs::path> cache_files(const Scratch& s) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(s.path("results/cache/data")))
        if (e.path().extension() == ".data") files.push_back(e.path());
    return files;
}

} // namespace

TEST(DataCache, ALaterRunMapsWhatAnEarlierOneDecodedWithTheSameMetrics) {
    Scratch s;
    std::string file = sweep(s);
    auto first = s.run({"run", file, "--db", s.path("results/first.db")});
    ASSERT_EQ(first.code, 0) << first.out;
    std::string db1 = s.path("results/first.db"), db2 = s.path("results/second.db"), db3 = s.path("results/third.db");
    // Once, though two workers may both start on it: the second waits on the lock, then maps (or,
    // started late, finds the data set already in the first worker's memory and never loads it).
    EXPECT_EQ(logs_saying(db1, "decoded and written to the data cache"), 1);
    ASSERT_EQ(cache_files(s).size(), 1u);

    auto second = s.run({"run", file, "--db", db2});
    ASSERT_EQ(second.code, 0) << second.out;
    EXPECT_EQ(logs_saying(db2, "mapped from the data cache"), 2);
    EXPECT_EQ(logs_saying(db2, "decoded"), 0);
    std::string m1 = metrics(db1);
    EXPECT_GT(m1.size(), 100u) << m1;
    EXPECT_EQ(metrics(db2), m1);

    // Cut short (a disk that filled, a copy interrupted): decoded again and rewritten.
    fs::path cached = cache_files(s).front();
    fs::resize_file(cached, fs::file_size(cached) / 2);
    auto third = s.run({"run", file, "--db", db3, "--jobs", "1"});
    ASSERT_EQ(third.code, 0) << third.out;
    EXPECT_EQ(logs_saying(db3, "decoded and written to the data cache"), 1);
    EXPECT_EQ(metrics(db3), m1);
    EXPECT_GT(fs::file_size(cached), 2 * 1024 * 1024u);
}
