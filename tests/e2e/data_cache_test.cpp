// The caches through `iclr run`: a later run maps the data set an earlier one decoded, with the same
// metrics to the bit; a damaged cache file is decoded again, not trusted; a rebuilt plugin's
// trials do not reuse what its old build pretrained, nor a data set rewritten in place what the old
// files gave; `iclr cache` lists, prunes and limits it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

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

// Trials that fine-tune an MLP pretrained on Fashion-MNIST: a backbone and two data sets to cache
// (one trial on one worker, unless `more` sets other [sweep] keys and `grid` sweeps a [method] key;
// the pretraining set's whole test split unless `pretrain_test` sets its test_per_class).
std::string pretraining_sweep(const Scratch& s, int train_per_class, int pretrain_per_class,
                              const std::string& more = "jobs = 1", const std::string& grid = "",
                              int pretrain_test = 0) {
    std::string text = R"([sweep]
name = "pre"
{more}
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = {train}
test_per_class = 10
[pretrain]
plugin = "fashion_mnist"
train_per_class = {pretrain}
{pretrain_test}
[model]
plugin = "mlp"
width = 8
[method]
plugin = "finetune"
pretrain_epochs = 1
{grid}
[[metric]]
plugin = "accuracy_matrix"
)";
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"{more}", more},
          {"{train}", std::to_string(train_per_class)},
          {"{pretrain}", std::to_string(pretrain_per_class)},
          {"{pretrain_test}", pretrain_test ? "test_per_class = " + std::to_string(pretrain_test) : ""},
          {"{grid}", grid}})
        text.replace(text.find(from), from.size(), to);
    return s.write("pre.toml", text);
}

std::vector<fs::path> cache_files(const Scratch& s) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(s.path("results/cache/data")))
        if (e.path().extension() == ".data") files.push_back(e.path());
    return files;
}

} // namespace

// The data cache tests follow the cache through the trials' logs, so the trials load the data sets
// (--no-construct): a run's constructor check would load them first, in its worker, which then
// hands them to its trials (ConstructorCheck.RunLoadsEachDataSetFirstSoMissingDataIsOneError).
TEST(DataCache, ALaterRunMapsWhatAnEarlierOneDecodedWithTheSameMetrics) {
    Scratch s;
    std::string file = sweep(s);
    auto first = s.run({"run", file, "--db", s.path("results/first.db"), "--no-construct"});
    ASSERT_EQ(first.code, 0) << first.out;
    std::string db1 = s.path("results/first.db"), db2 = s.path("results/second.db"), db3 = s.path("results/third.db");
    // Once, though two workers may both start on it: the second waits on the lock, then maps (or,
    // started late, finds the data set already in the first worker's memory and never loads it).
    EXPECT_EQ(logs_saying(db1, "decoded and written to the data cache"), 1);
    ASSERT_EQ(cache_files(s).size(), 1u);
    auto hits = [](const std::string& db) {
        return Scratch::sql_in(db, "SELECT GROUP_CONCAT(value, ' ') FROM (SELECT value FROM attributes WHERE key = "
                                   "'data_cache_hit.dataset' ORDER BY value)");
    };
    EXPECT_EQ(hits(db1), "0 1"); // the trial that decoded the set, and the one that did not

    // One worker (how two would split the trials is timing): it maps the file for its first trial
    // and keeps the mapped set for its second.
    auto second = s.run({"run", file, "--db", db2, "--jobs", "1", "--no-construct"});
    ASSERT_EQ(second.code, 0) << second.out;
    EXPECT_EQ(logs_saying(db2, "mapped from the data cache"), 1);
    EXPECT_EQ(logs_saying(db2, "decoded"), 0);
    EXPECT_EQ(hits(db2), "1 1");
    std::string m1 = metrics(db1);
    EXPECT_GT(m1.size(), 100u) << m1;
    EXPECT_EQ(metrics(db2), m1);

    // Cut short (a disk that filled, a copy interrupted): decoded again and rewritten.
    fs::path cached = cache_files(s).front();
    fs::resize_file(cached, fs::file_size(cached) / 2);
    auto third = s.run({"run", file, "--db", db3, "--jobs", "1", "--no-construct"});
    ASSERT_EQ(third.code, 0) << third.out;
    EXPECT_EQ(logs_saying(db3, "decoded and written to the data cache"), 1);
    EXPECT_EQ(hits(db3), "0 1");
    EXPECT_EQ(metrics(db3), m1);
    EXPECT_GT(fs::file_size(cached), 2 * 1024 * 1024u);
}

// A pretrained backbone is keyed by the builds of the model and data set plugins that made it: a
// rebuilt mlp (here: its library with one byte appended, as a rebuild changes its SHA-256) pretrains
// again instead of fine-tuning what the old build made. iclr runs from a copy of its build tree, so
// the test touches no shared plugin.
TEST(ArtifactCache, ARebuiltModelPluginPretrainsAgain) {
    Scratch s;
    fs::path build = fs::path(ICLR_BIN).parent_path().parent_path(), prefix = s.path("prefix");
    fs::create_directories(prefix / "bin");
    fs::copy_file(ICLR_BIN, prefix / "bin" / "iclr");
    fs::copy(build / "lib", prefix / "lib", fs::copy_options::recursive);
    for (std::string so :
         {"datasets/mnist", "datasets/fashion_mnist", "models/mlp", "methods/finetune", "metrics/accuracy_matrix"}) {
        fs::create_directories((prefix / "plugins" / so).parent_path());
        fs::copy_file(build / "plugins" / (so + ".so"), prefix / "plugins" / (so + ".so"));
    }
    std::string iclr = (prefix / "bin" / "iclr").string();
    std::string file = pretraining_sweep(s, 30, 30);
    auto hit_of = [&](const std::string& db) {
        return Scratch::sql_in(db, "SELECT value FROM attributes WHERE key = 'cache_hit'");
    };
    auto key_of = [&](const std::string& db) {
        return Scratch::sql_in(db, "SELECT value FROM attributes WHERE key = 'cache_key'");
    };
    std::string a = s.path("results/a.db"), b = s.path("results/b.db"), c = s.path("results/c.db");
    ASSERT_EQ(s.run_binary(iclr, {"run", file, "--db", a}).code, 0);
    ASSERT_EQ(s.run_binary(iclr, {"run", file, "--db", b}).code, 0);
    EXPECT_EQ(hit_of(a), "0");
    EXPECT_EQ(hit_of(b), "1"); // same builds: the backbone comes from the cache
    EXPECT_EQ(key_of(b), key_of(a));
    std::ofstream(prefix / "plugins" / "models" / "mlp.so", std::ios::app | std::ios::binary) << '\0';
    auto r = s.run_binary(iclr, {"run", file, "--db", c});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(hit_of(c), "0") << "a backbone of the old mlp build was reused";
    EXPECT_NE(key_of(c), key_of(a));
}

// The data folder's files are part of what a decoded data set and a pretrained backbone are keyed
// on: a Fashion-MNIST whose training images were rewritten in place (here: with MNIST's, the same
// size) is decoded and pretrained on again, not served from the old decode. The test's own copy
// of the data, so no shared file changes.
TEST(DataCache, DataRewrittenInPlaceIsDecodedAndPretrainedOnAgain) {
    Scratch s;
    fs::path data = s.path("data"), real = Scratch::data_dir();
    fs::create_directories(data);
    for (std::string set : {"mnist", "fashion-mnist"})
        fs::copy(real / set, data / set, fs::copy_options::recursive);
    s.set_env("ICLR_DATA", data.string());
    std::string file = pretraining_sweep(s, 300, 150); // both sets over the data cache's 1 MiB floor
    auto attribute = [](const std::string& db, const std::string& key) {
        return Scratch::sql_in(db, "SELECT value FROM attributes WHERE key = '" + key + "'");
    };
    std::string a = s.path("results/a.db"), b = s.path("results/b.db"), c = s.path("results/c.db");
    ASSERT_EQ(s.run({"run", file, "--db", a, "--no-construct"}).code, 0);
    ASSERT_EQ(s.run({"run", file, "--db", b, "--no-construct"}).code, 0);
    EXPECT_EQ(attribute(b, "cache_hit"), "1");
    EXPECT_EQ(logs_saying(b, "mapped from the data cache"), 1);

    fs::path images = data / "fashion-mnist" / "train-images-idx3-ubyte";
    ASSERT_EQ(fs::file_size(images), fs::file_size(data / "mnist" / "train-images-idx3-ubyte"));
    {
        std::ifstream in(data / "mnist" / "train-images-idx3-ubyte", std::ios::binary);
        std::ofstream out(images, std::ios::binary | std::ios::trunc); // in place: same file, same name
        out << in.rdbuf();
    }
    auto r = s.run({"run", file, "--db", c, "--no-construct"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(attribute(c, "cache_hit"), "0") << "a backbone pretrained on the old images was reused";
    EXPECT_NE(attribute(c, "data_cache.pretrain"), attribute(a, "data_cache.pretrain"));
    EXPECT_EQ(logs_saying(c, "mapped from the data cache"), 0);
    EXPECT_NE(metrics(c), metrics(a)); // the new images were used
}

// `iclr cache` as a user meets it: the summary and the list name what a sweep cached and the runs
// that used each entry; `prune --all` empties the cache, and the same sweep run again computes
// everything anew and arrives at the same metrics. Bad prune input is one line and exit 2.
TEST(ArtifactCache, ListNamesTheRunsAndAPrunedCacheIsComputedAgainTheSame) {
    Scratch s;
    std::string file = pretraining_sweep(s, 300, 150); // both sets over the data cache's 1 MiB floor
    std::string a = s.path("results/a.db"), b = s.path("results/b.db");
    ASSERT_EQ(s.run({"run", file, "--db", a}).code, 0);
    auto summary = s.run({"cache", "--db", a});
    ASSERT_EQ(summary.code, 0) << summary.out;
    EXPECT_NE(summary.out.find("3 entries"), std::string::npos) << summary.out; // a backbone, two data sets
    EXPECT_NE(summary.out.find("backbones"), std::string::npos) << summary.out;
    auto list = s.run({"cache", "list", "--db", a, "--format", "csv"});
    ASSERT_EQ(list.code, 0) << list.out;
    std::string backbone = Scratch::sql_in(a, "SELECT value FROM attributes WHERE key = 'cache_key'");
    std::string data = Scratch::sql_in(a, "SELECT value FROM attributes WHERE key = 'data_cache.dataset'");
    std::string pretrain = Scratch::sql_in(a, "SELECT value FROM attributes WHERE key = 'data_cache.pretrain'");
    for (const std::string& key : {backbone, data, pretrain}) {
        ASSERT_EQ(key.size(), 32u) << key; // a ContentKey: 128 bits in hex
        auto at = list.out.find("," + key + ",");
        ASSERT_NE(at, std::string::npos) << key << "\n" << list.out;
        EXPECT_NE(list.out.substr(at, list.out.find('\n', at) - at).find(",1,1"), std::string::npos)
            << "one run of a.db, run 1, used it:\n"
            << list.out;
    }

    auto bad = s.run({"cache", "prune", "--db", a});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.out.find("iclr: error: iclr cache prune: say what to remove"), std::string::npos) << bad.out;
    bad = s.run({"cache", "prune", "--older-than", "a while", "--db", a});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.out.find("--older-than: 'a while' is not a duration"), std::string::npos) << bad.out;

    auto dry = s.run({"cache", "prune", "--all", "--dry-run", "--db", a});
    ASSERT_EQ(dry.code, 0) << dry.out;
    EXPECT_NE(dry.out.find("would remove 3 entries"), std::string::npos) << dry.out;
    auto pruned = s.run({"cache", "prune", "--all", "--db", a});
    ASSERT_EQ(pruned.code, 0) << pruned.out;
    EXPECT_NE(pruned.out.find("removed 3 entries"), std::string::npos) << pruned.out;
    EXPECT_NE(pruned.out.find("0 B left"), std::string::npos) << pruned.out;
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(s.path("results/cache")))
        files += e.is_regular_file();
    EXPECT_EQ(files, 0u) << "entries, locks and temporaries all gone";

    ASSERT_EQ(s.run({"run", file, "--db", b, "--no-construct"}).code, 0); // the trial loads (see above)
    EXPECT_EQ(Scratch::sql_in(b, "SELECT value FROM attributes WHERE key = 'cache_hit'"), "0");
    EXPECT_EQ(logs_saying(b, "mapped from the data cache"), 0) << "a data set outlived the prune";
    EXPECT_EQ(metrics(b), metrics(a));
}

// Pruning everything, over and over, while a 2-worker sweep reads and writes the cache: every
// trial finishes, and with the metrics of a run whose cache nobody touched, to the bit (what a
// prune removed was computed again, the same).
TEST(ArtifactCache, PruningAllDuringASweepLosesNothingAndChangesNoMetric) {
    Scratch s;
    // 6 trials on 2 workers, one backbone per seed shared by the 3 learning rates.
    std::string file = pretraining_sweep(s, 300, 150, "seeds = 2\njobs = 2", "lr = { grid = [0.01, 0.02, 0.03] }");
    std::string quiet = s.path("results/quiet.db"), busy = s.path("results/busy.db");
    ASSERT_EQ(s.run({"run", file, "--db", quiet}).code, 0);
    ASSERT_EQ(s.run({"cache", "prune", "--all", "--db", quiet}).code, 0);
    pid_t sweep = s.start({"run", file, "--db", busy}, s.path("busy.txt"));
    int prunes = 0, status = 0;
    while (waitpid(sweep, &status, WNOHANG) == 0) {
        auto p = s.run({"cache", "prune", "--all", "--db", busy});
        ASSERT_EQ(p.code, 0) << p.out;
        ++prunes;
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << prunes << " prunes";
    EXPECT_GT(prunes, 2);
    EXPECT_EQ(Scratch::sql_in(busy, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), "6");
    std::string m = metrics(quiet);
    EXPECT_GT(m.size(), 100u);
    EXPECT_EQ(metrics(busy), m);
}

namespace {

// `iclr cache list --format csv` as key -> bytes.
std::map<std::string, uintmax_t> entry_bytes(const Scratch& s, const std::string& db) {
    auto list = s.run({"cache", "list", "--db", db, "--format", "csv"});
    EXPECT_EQ(list.code, 0) << list.out;
    std::map<std::string, uintmax_t> out;
    std::istringstream lines(list.out);
    std::string line;
    std::getline(lines, line); // kind,key,bytes,last_used,runs,last_run
    while (std::getline(lines, line)) {
        std::istringstream cells(line);
        std::string kind, key, bytes;
        std::getline(cells, kind, ',');
        std::getline(cells, key, ',');
        std::getline(cells, bytes, ',');
        out[key] = std::stoull(bytes);
    }
    return out;
}

uintmax_t sum(const std::map<std::string, uintmax_t>& entries) {
    uintmax_t n = 0;
    for (const auto& [key, bytes] : entries)
        n += bytes;
    return n;
}

// Runs `file` (three trials, one worker, each writing a cache entry of its own) once, empties the
// cache and sets a limit with room for its largest entry and half another; then runs it again on a
// new database, which must remove one entry after each trial but the first, as it goes (kept only
// at the end, the run would hold all three until then and remove two at once). `flags` go to both
// runs; `tag` names their databases. Returns the second database.
std::string expect_the_limit_kept_trial_by_trial(Scratch& s, const std::string& file,
                                                 const std::vector<std::string>& flags = {},
                                                 const std::string& tag = "") {
    std::string a = s.path("results/a" + tag + ".db"), b = s.path("results/b" + tag + ".db");
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.end(), flags.begin(), flags.end());
        return args;
    };
    EXPECT_EQ(s.run(with({"run", file, "--db", a})).code, 0);
    auto entries = entry_bytes(s, a);
    EXPECT_EQ(entries.size(), 3u);
    uintmax_t largest = 0;
    for (const auto& [key, bytes] : entries)
        largest = std::max(largest, bytes);
    EXPECT_EQ(s.run({"cache", "prune", "--all", "--db", a}).code, 0);
    EXPECT_EQ(s.run({"cache", "limit", std::to_string(largest + largest / 2), "--db", a}).code, 0);
    auto r = s.run(with({"run", file, "--db", b}));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(occurrences(r.out, "cache: removed 1 entry"), 2u) << r.out;
    EXPECT_FALSE(has(r.out, "cache: removed 2 entries")) << r.out;
    EXPECT_EQ(entry_bytes(s, b).size(), 1u);
    return b;
}

} // namespace

// `iclr cache limit`: set, the cache is pruned to it at once, least recently used first; every
// `iclr run` after it keeps the cache under it (here: when it ends), removing what was used longest ago and
// keeping what the run just used. Bad input is one line and exit 2.
TEST(ArtifactCache, ALimitKeepsTheCacheUnderItAfterEveryRun) {
    Scratch s;
    auto none = s.run({"cache", "limit"});
    ASSERT_EQ(none.code, 0) << none.out;
    EXPECT_NE(none.out.find("no limit"), std::string::npos) << none.out;
    std::string small = s.path("results/small.db"), large = s.path("results/large.db");
    ASSERT_EQ(s.run({"run", pretraining_sweep(s, 250, 130), "--db", small}).code, 0);
    const auto small_entries = entry_bytes(s, small);
    ASSERT_EQ(small_entries.size(), 3u); // a backbone, two data sets
    ASSERT_EQ(s.run({"run", pretraining_sweep(s, 300, 150), "--db", large}).code, 0);
    auto both = entry_bytes(s, large);
    ASSERT_EQ(both.size(), 6u);
    uintmax_t large_bytes = sum(both) - sum(small_entries);
    ASSERT_GT(large_bytes, sum(small_entries));

    // Room for the larger sweep's entries: the smaller one's, used longer ago, go at once.
    auto set = s.run({"cache", "limit", std::to_string(large_bytes), "--db", large});
    ASSERT_EQ(set.code, 0) << set.out;
    EXPECT_NE(set.out.find("cache: removed 3 entries"), std::string::npos) << set.out;
    auto left = entry_bytes(s, large);
    for (const auto& [key, bytes] : small_entries)
        EXPECT_EQ(left.count(key), 0u) << key;
    EXPECT_EQ(sum(left), large_bytes);
    auto summary = s.run({"cache", "--db", large});
    EXPECT_NE(summary.out.find("3 entries"), std::string::npos) << summary.out;
    EXPECT_NE(summary.out.find("of its limit"), std::string::npos) << summary.out;

    // The smaller sweep again, on a new database: its entries are computed again and kept (the run
    // just used them); the larger sweep's, used longer ago, make room.
    std::string again = s.path("results/again.db");
    auto run = s.run({"run", pretraining_sweep(s, 250, 130), "--db", again});
    ASSERT_EQ(run.code, 0) << run.out;
    EXPECT_NE(run.out.find("cache: removed"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("under its limit of"), std::string::npos) << run.out;
    left = entry_bytes(s, again);
    for (const auto& [key, bytes] : small_entries)
        EXPECT_EQ(left.count(key), 1u) << "what the run just used was pruned: " << key;
    EXPECT_LE(sum(left), large_bytes);
    EXPECT_EQ(Scratch::sql_in(again, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), "1");

    auto bad = s.run({"cache", "limit", "lots"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.out.find("iclr: error: iclr cache limit: 'lots' is not a size"), std::string::npos) << bad.out;
    bad = s.run({"cache", "list", "20G"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.out.find("iclr cache list takes no '20G'"), std::string::npos) << bad.out;
    auto off = s.run({"cache", "limit", "none", "--db", again});
    ASSERT_EQ(off.code, 0) << off.out;
    EXPECT_FALSE(fs::exists(s.path("results/cache/limit")));
}

// The limit holds during a run, not only at its end: three trials each pretrain a backbone of their
// own (three seeds); the data sets are under the data cache's floor, so backbones only.
TEST(ArtifactCache, ALimitIsKeptAsARunAddsEntriesNotOnlyAtItsEnd) {
    Scratch s;
    std::string file = pretraining_sweep(s, 30, 10, "seeds = 3\njobs = 1", "", 10); // small: under the data floor
    std::string db = expect_the_limit_kept_trial_by_trial(s, file);
    EXPECT_EQ(Scratch::sql_in(db, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), "3");
}

// The same for data sets: three trials each decode a data set of their own (three data windows, no
// pretraining); the attribute data_cache_hit.dataset = 0 tells the host the cache grew. Without
// --no-construct the run's check decodes the three before any trial, and keeps the limit as it goes
// the same way; the trials then find them in the check's worker (hit 1).
TEST(DataCache, ALimitIsKeptAsARunDecodesDataSetsNotOnlyAtItsEnd) {
    Scratch s;
    std::string file = std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/cache/data_windows.toml";
    const std::string decoded_by_trials =
        "SELECT COUNT(*) FROM attributes WHERE key = 'data_cache_hit.dataset' AND value = '0'";
    std::string db = expect_the_limit_kept_trial_by_trial(s, file, {"--no-construct"});
    EXPECT_EQ(Scratch::sql_in(db, decoded_by_trials), "3");
    ASSERT_EQ(s.run({"cache", "limit", "none", "--db", db}).code, 0);
    std::string checked = expect_the_limit_kept_trial_by_trial(s, file, {}, "-checked");
    EXPECT_EQ(Scratch::sql_in(checked, decoded_by_trials), "0");
}
