// The artifact cache as files: entries by last use, pruning by age and size under the workers' locks.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "cache/artifact_cache.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "test_util.hpp"

using namespace iclr;
using namespace iclr::test;
namespace fs = std::filesystem;

namespace {

constexpr std::time_t kNow = 1'800'000'000;
constexpr std::time_t kDay = 86400;

// A cache file of `kib` KiB (non-zero bytes: blocks on disk) last used `days_ago`, as access time;
// its modification time is older, as for a file written once and read since.
fs::path put(const fs::path& dir, const std::string& rel, int kib, double days_ago) {
    fs::path f = dir / rel;
    fs::create_directories(f.parent_path());
    write_file(f.string(), std::string(size_t(kib) * 1024, 'x'));
    timespec times[2] = {{kNow - std::time_t(days_ago * kDay), 0}, {kNow - 100 * kDay, 0}};
    EXPECT_EQ(utimensat(AT_FDCWD, f.c_str(), times, 0), 0);
    return f;
}

// A worker's hold on an entry: flock on <file>.lock, as cache.hpp and data_cache.cpp take it.
struct Held {
    int fd;
    explicit Held(const fs::path& file) : fd(open((file.string() + ".lock").c_str(), O_RDWR | O_CREAT, 0644)) {
        EXPECT_EQ(flock(fd, LOCK_EX), 0);
    }
    ~Held() { close(fd); }
};

std::vector<std::string> keys(const std::vector<CacheEntry>& es) {
    std::vector<std::string> out;
    for (const auto& e : es)
        out.push_back(e.kind + "/" + e.key);
    return out;
}

} // namespace

TEST(ArtifactCacheFiles, ListsEntriesLeastRecentlyUsedFirstWithoutLocksOrTemporaries) {
    TempDir t;
    put(t.path(), "backbones/aaa.pt", 16, 2);
    put(t.path(), "backbones/bbb.pt", 16, 40);
    put(t.path(), "data/ccc.data", 64, 10);
    write_file(t.file("backbones/aaa.pt.lock"), "");
    write_file(t.file("data/ccc.data.tmp.4242"), "half");
    auto es = list_cache(t.path());
    EXPECT_EQ(keys(es), (std::vector<std::string>{"backbones/bbb", "data/ccc", "backbones/aaa"}));
    ASSERT_EQ(es.size(), 3u);
    EXPECT_EQ(es[0].last_used, double(kNow - 40 * kDay));
    EXPECT_GE(es[1].bytes, 64u * 1024); // blocks on disk
    EXPECT_TRUE(list_cache(t.path() / "absent").empty());
}

TEST(ArtifactCacheFiles, PrunesByAgeThenLeastRecentlyUsedUntilTheRestFits) {
    TempDir t;
    put(t.path(), "backbones/old.pt", 64, 40);
    put(t.path(), "data/mid.data", 64, 10);
    put(t.path(), "data/new.data", 64, 1);
    PruneRule age;
    age.older_than_s = 30.0 * kDay;
    auto r = prune_cache(t.path(), age, kNow);
    EXPECT_EQ(keys(r.removed), (std::vector<std::string>{"backbones/old"}));
    EXPECT_FALSE(fs::exists(t.path() / "backbones/old.pt"));
    EXPECT_FALSE(fs::exists(t.path() / "backbones/old.pt.lock")) << "the lock file goes with its entry";
    PruneRule size;
    size.max_bytes = list_cache(t.path()).back().bytes; // room for one: the most recently used stays
    r = prune_cache(t.path(), size, kNow);
    EXPECT_EQ(keys(r.removed), (std::vector<std::string>{"data/mid"}));
    EXPECT_EQ(keys(list_cache(t.path())), (std::vector<std::string>{"data/new"}));
}

TEST(ArtifactCacheFiles, AnEntryAWorkerHoldsIsKeptAndReportedBusy) {
    TempDir t;
    fs::path held = put(t.path(), "backbones/held.pt", 16, 50);
    put(t.path(), "backbones/free.pt", 16, 50);
    PruneRule all;
    all.all = true;
    {
        Held worker(held);
        auto r = prune_cache(t.path(), all, kNow);
        EXPECT_EQ(keys(r.removed), (std::vector<std::string>{"backbones/free"}));
        EXPECT_EQ(keys(r.busy), (std::vector<std::string>{"backbones/held"}));
        EXPECT_TRUE(fs::exists(held));
    }
    EXPECT_EQ(keys(prune_cache(t.path(), all, kNow).removed), (std::vector<std::string>{"backbones/held"}));
    EXPECT_TRUE(list_cache(t.path()).empty());
}

TEST(ArtifactCacheFiles, ATemporaryGoesOnlyOnceItsWriterHasLetGo) {
    TempDir t;
    fs::path entry = t.path() / "data" / "k.data";
    put(t.path(), "data/k.data.tmp.77", 8, 0);
    PruneRule old;
    old.older_than_s = 365.0 * kDay;
    {
        Held writer(entry); // still writing it
        EXPECT_EQ(prune_cache(t.path(), old, kNow).temporaries_removed, 0);
        EXPECT_TRUE(fs::exists(t.path() / "data/k.data.tmp.77"));
    }
    EXPECT_EQ(prune_cache(t.path(), old, kNow).temporaries_removed, 1); // a killed writer's leftover
    EXPECT_FALSE(fs::exists(t.path() / "data/k.data.tmp.77"));
}

TEST(ArtifactCacheFiles, ADryRunRemovesNothing) {
    TempDir t;
    put(t.path(), "backbones/a.pt", 16, 50);
    put(t.path(), "data/b.data.tmp.1", 8, 0);
    PruneRule all;
    all.all = true;
    all.dry_run = true;
    auto r = prune_cache(t.path(), all, kNow);
    EXPECT_EQ(keys(r.removed), (std::vector<std::string>{"backbones/a"}));
    EXPECT_EQ(r.temporaries_removed, 1);
    EXPECT_TRUE(fs::exists(t.path() / "backbones/a.pt"));
    EXPECT_TRUE(fs::exists(t.path() / "data/b.data.tmp.1"));
}

TEST(ArtifactCacheFiles, SizesAndDurationsAsUsersWriteThem) {
    EXPECT_EQ(parse_size("4096"), 4096u);
    EXPECT_EQ(parse_size("500M"), 500u << 20);
    EXPECT_EQ(parse_size("1.5GiB"), 3u << 29);
    EXPECT_EQ(parse_size("2gb"), 2ull << 30);
    for (const char* bad : {"", "G", "-1G", "2 G", "10X", "1e400"})
        EXPECT_FALSE(parse_size(bad)) << bad;
    EXPECT_EQ(format_size(512), "512 B");
    EXPECT_EQ(format_size(3u << 29), "1.5 GiB");
    EXPECT_EQ(parse_duration("30d"), 30.0 * 86400);
    EXPECT_EQ(parse_duration("1.5h"), 5400.0);
    EXPECT_EQ(parse_duration("90s"), 90.0);
    for (const char* bad : {"", "d", "5", "-3m", "3w", "1 h"})
        EXPECT_FALSE(parse_duration(bad)) << bad;
}

// The limit lives in the cache folder (every database sharing the cache keeps the same one) and is
// not an entry itself; a hand-edited file that holds no size is an error naming it.
TEST(ArtifactCacheFiles, TheLimitIsAFileInTheCacheFolderAndNotAnEntry) {
    TempDir t;
    EXPECT_FALSE(read_limit(t.path() / "absent"));
    put(t.path(), "data/a.data", 16, 1);
    write_limit(t.path(), "1.5G");
    EXPECT_EQ(read_file((t.path() / "limit").string()), "1.5G\n");
    EXPECT_EQ(read_limit(t.path()), 3ull << 29);
    EXPECT_EQ(keys(list_cache(t.path())), (std::vector<std::string>{"data/a"}));
    write_limit(t.path(), "20M");
    EXPECT_EQ(read_limit(t.path()), 20u << 20);
    std::vector<std::string> names;
    for (const auto& f : fs::directory_iterator(t.path()))
        names.push_back(f.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"data", "limit"})) << "the replaced file's temporary is gone";
    write_limit(t.path(), std::nullopt);
    EXPECT_FALSE(read_limit(t.path()));
    write_limit(t.path(), std::nullopt); // none set: nothing to do
    write_file((t.path() / "limit").string(), "twenty gigs\n");
    try {
        read_limit(t.path());
        ADD_FAILURE() << "a malformed limit was read";
    } catch (const HostError& e) {
        EXPECT_EQ(std::string(e.what()), (t.path() / "limit").string() +
                                             ": 'twenty gigs' is not a size; set the cache's limit with `iclr cache "
                                             "limit 20G` (or `none`)");
    }
}
