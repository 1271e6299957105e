// `iclr rerun RUN`: a recorded trial run again from the database alone, compared value by value.
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "common/file_hash.hpp"
#include "e2e_util.hpp"
#include "sweep/trial.hpp"

namespace iclr::e2e {
namespace {

// A write a user could make with the sqlite3 shell.
void exec(const Scratch& s, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(s.db().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
}

const char* kNoop = R"(
[sweep]
name = "noop_rerun"
seeds = 1
[method]
plugin = "noop"
values = 5
)";

} // namespace

// Real data, a pretraining stage and two tasks: the rerun computes every stage again in a cache of
// its own (the pretrained backbone lands there, not in the database's cache) and gives each recorded
// value to the bit; the database file is not touched.
TEST(Rerun, ARealMnistRunWithPretrainingIsReproducedBitForBitAndNothingIsWritten) {
    Scratch s;
    std::string file = s.write("tiny.toml", R"(
[sweep]
name = "tiny_pretrained"
seeds = 1
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 60
test_per_class = 40
[pretrain]
plugin = "fashion_mnist"
train_per_class = 40
[model]
plugin = "mlp"
width = 32
[method]
plugin = "finetune"
lr = 0.05
pretrain_epochs = 1
log_every = 2
[[metric]]
plugin = "accuracy_matrix"
)");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    int64_t rows = s.count("SELECT COUNT(*) FROM metrics WHERE run_id = 1");
    ASSERT_EQ(s.count("SELECT COUNT(*) FROM accuracy_matrix WHERE run_id = 1"), 4);
    ASSERT_GT(s.count("SELECT COUNT(*) FROM metrics WHERE run_id = 1 AND key = 'train_loss'"), 0);
    std::string before = sha256_file(s.db());

    auto r = s.run({"rerun", "1"});
    ASSERT_EQ(r.code, 0) << r.out;
    std::string threads = s.sql("SELECT threads FROM runs WHERE id = 1"); // the run's: libtorch's sums split by them
    EXPECT_TRUE(has(r.out, "rerun of run 1 (sweep tiny_pretrained, seed 0): " + threads + " thread(s), a fresh cache"))
        << r.out;
    EXPECT_TRUE(has(r.out, "status: done, as recorded")) << r.out;
    EXPECT_TRUE(has(r.out, "run 1 reproduced: " + std::to_string(rows) + " of " + std::to_string(rows) +
                               " metric value(s) identical\n"))
        << r.out;
    EXPECT_FALSE(has(r.out, "not as recorded")) << r.out;
    // The backbone was pretrained again, into the rerun's own cache, removed when the rerun ended
    // (decoded data sets and a backbone, every rerun); its log stays.
    auto scratch = std::filesystem::path(s.path("results/reruns/iclr.db/run-1"));
    EXPECT_TRUE(std::filesystem::exists(scratch / "logs/run-1.log"));
    EXPECT_FALSE(std::filesystem::exists(scratch / "cache")) << "the rerun's own cache outlived it";
    EXPECT_TRUE(has(slurp((scratch / "logs/run-1.log").string()), "pretrained (supervised) on fashion_mnist"))
        << "the backbone came from a cache";
    auto db_cache = std::filesystem::path(s.path("results/cache"));
    auto entries = [&] { return std::distance(std::filesystem::recursive_directory_iterator(db_cache), {}); };
    const auto cached = entries();

    auto warm = s.run({"rerun", "1", "--warm-cache"});
    EXPECT_EQ(warm.code, 0) << warm.out;
    EXPECT_TRUE(has(warm.out, "the database's cache")) << warm.out;
    EXPECT_FALSE(has(slurp((scratch / "logs/run-1.log").string()), "pretrained (supervised)")) << "read from the cache";
    EXPECT_EQ(entries(), cached) << "a warm rerun removed or added to the database's cache";
    // A second rerun without --warm-cache starts from an empty cache again, not the first one's.
    auto again = s.run({"rerun", "1"});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(slurp((scratch / "logs/run-1.log").string()), "pretrained (supervised) on fashion_mnist"))
        << "the first rerun's cached backbone was read";
    EXPECT_EQ(sha256_file(s.db()), before);
    EXPECT_FALSE(std::filesystem::exists(s.db() + "-wal"));
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 1);
}

// A value that is not what the rerun gives is named with both figures, and the command fails;
// --tolerance accepts differences up to it. Another thread count is a setting that is not as recorded.
TEST(Rerun, AValueThatDiffersIsNamedAndFailsTheCommandUnlessWithinTheTolerance) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("n.toml", kNoop)}).code, 0);
    std::string key = s.sql("SELECT key FROM metrics WHERE run_id = 1 ORDER BY rowid LIMIT 1 OFFSET 2");
    std::string step = s.sql("SELECT step FROM metrics WHERE run_id = 1 ORDER BY rowid LIMIT 1 OFFSET 2");
    std::string value = s.sql("SELECT printf('%.10g', value) FROM metrics WHERE run_id = 1 ORDER BY rowid LIMIT 1 "
                              "OFFSET 2");
    exec(s, "UPDATE metrics SET value = value + 1e-6 WHERE rowid = (SELECT rowid FROM metrics WHERE run_id = 1 "
            "ORDER BY rowid LIMIT 1 OFFSET 2)");
    std::string threads = s.sql("SELECT threads FROM runs WHERE id = 1"), other = threads == "1" ? "2" : "1";
    auto r = s.run({"rerun", "1", "--threads", other});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.out, "not as recorded: threads " + other + " (the run: " + threads + ")")) << r.out;
    EXPECT_TRUE(has(r.out, "1 value(s) differ, largest |difference| 1e-06 (" + key + " step " + step + ")")) << r.out;
    EXPECT_TRUE(has(r.out, " " + value + " ")) << "the rerun's value, as first recorded:\n" << r.out;
    EXPECT_TRUE(has(r.out, "run 1 not reproduced: 4 of 5 metric value(s) identical")) << r.out;
    auto within = s.run({"rerun", "1", "--tolerance", "1e-5"});
    EXPECT_EQ(within.code, 0) << within.out;
    EXPECT_TRUE(has(within.out, "run 1 reproduced: 4 of 5 metric value(s) identical, 1 within 1e-05")) << within.out;
    // A plugin library that is not the run's build (its SHA-256 differs) is named before the figures.
    exec(s,
         "UPDATE runs SET plugins_json = json_set(plugins_json, '$.method.sha256', '0123456789abcdef') WHERE id = 1");
    auto rebuilt = s.run({"rerun", "1", "--tolerance", "1e-5"});
    EXPECT_TRUE(has(rebuilt.out, "note: method noop 1.1.0: today's library ")) << rebuilt.out;
    EXPECT_TRUE(has(rebuilt.out, "is another build (sha256 ") && has(rebuilt.out, "the run's 0123456789ab)"))
        << rebuilt.out;
    // A row the rerun does not give (or one it adds) is a difference too.
    exec(s, "INSERT INTO metrics(run_id, key, step, task, value) VALUES (1, 'extra', 9, NULL, 1.5)");
    auto extra = s.run({"rerun", "1", "--tolerance", "1e-5"});
    EXPECT_EQ(extra.code, 1) << extra.out;
    EXPECT_TRUE(has(extra.out, "extra")) << extra.out;
}

// A failed trial fails again with its error. A NaN loss under the sweep's on_nonfinite = "record",
// which came from an include, lets the diverged trial run to its end again: the settings come from
// the sweep as recorded (its include is gone from disk by then).
TEST(Rerun, FailuresAndTheSweepsOwnSettingsAreReproducedFromTheRecordedSweep) {
    Scratch s;
    s.write("base.toml", "[sweep]\non_nonfinite = \"record\"\n");
    std::string file = s.write("f.toml", "include = [\"base.toml\"]\n[sweep]\nname = \"faults\"\nseeds = 1\n"
                                         "[method]\nplugin = \"fault\"\nmode = { grid = [\"throw\", \"nan\"] }\n");
    ASSERT_EQ(s.run({"run", file}).code, 1); // one trial failed
    std::filesystem::remove(s.path("base.toml"));
    std::string thrown = s.sql("SELECT id FROM runs WHERE status = 'failed'");
    std::string nan = s.sql("SELECT id FROM runs WHERE status = 'diverged'");
    ASSERT_EQ(s.sql("SELECT COUNT(*) FROM metrics WHERE run_id = " + nan), "6"); // ran to its end

    auto f = s.run({"rerun", thrown});
    EXPECT_EQ(f.code, 0) << f.out;
    EXPECT_TRUE(has(f.out, "status: failed, as recorded")) << f.out;
    EXPECT_TRUE(has(f.out, "error: ") && has(f.out, "injected failure")) << f.out;
    EXPECT_FALSE(has(f.out, "the run's error")) << "the same error:\n" << f.out;
    auto n = s.run({"rerun", nan});
    EXPECT_EQ(n.code, 0) << n.out;
    EXPECT_TRUE(has(n.out, "status: diverged, as recorded")) << n.out;
    EXPECT_TRUE(has(n.out, "run " + nan + " reproduced: 6 of 6 metric value(s) identical")) << n.out;

    // Under the default (stop) the trial stops at the NaN: the run as recorded is not reproduced.
    exec(s, "UPDATE sweeps SET source = replace(source, 'on_nonfinite = \"record\"', '')");
    auto stop = s.run({"rerun", nan});
    EXPECT_EQ(stop.code, 1) << stop.out;
    EXPECT_TRUE(has(stop.out, "status: diverged, as recorded")) << stop.out;
    EXPECT_TRUE(has(stop.out, "the run's error: loss became nan at step 3 (on_nonfinite = \"record\"")) << stop.out;
    EXPECT_TRUE(has(stop.out, "finished")) << "the row the stopped trial did not log:\n" << stop.out;
}

// --sweep FILE: a sample of the sweep's runs as written, drawn by a seeded generator (the same draw
// each time), each rerun and compared, then one line: how many reproduced, which did not.
TEST(Rerun, ASampleOfASweepsRunsIsRerunAndCounted) {
    Scratch s;
    std::string file = s.write("g.toml", "[sweep]\nname = \"grid\"\nseeds = 3\n[method]\nplugin = \"noop\"\n"
                                         "values = { grid = [2, 4] }\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto r = s.run({"rerun", "--sweep", file, "--sample", "3"});
    ASSERT_EQ(r.code, 0) << r.out;
    auto line = r.out.substr(0, r.out.find('\n'));
    EXPECT_TRUE(line.rfind("3 run(s) of " + file + ": run ", 0) == 0) << line;
    EXPECT_TRUE(has(r.out, file + ": 3 of 3 run(s) reproduced\n")) << r.out;
    auto same = s.run({"rerun", "--sweep", file, "--sample", "3"});
    EXPECT_EQ(same.out.substr(0, same.out.find('\n')), line) << "the same draw";
    // A changed value in one sampled run: that run is named, the command fails.
    std::string first = line.substr(line.rfind("run ") + 4);
    first = first.substr(0, first.find(','));
    exec(s, "UPDATE metrics SET value = value + 1 WHERE run_id = " + first + " AND step = 0");
    auto bad = s.run({"rerun", "--sweep", file, "--sample", "3"});
    EXPECT_EQ(bad.code, 1) << bad.out;
    EXPECT_TRUE(has(bad.out, file + ": 2 of 3 run(s) reproduced; not reproduced: run " + first + "\n")) << bad.out;
    auto all = s.run({"rerun", "--sweep", file, "--sample", "0", "--jobs", "2"});
    EXPECT_TRUE(has(all.out, "6 run(s) of " + file + ": run 1, 2, 3, 4, 5, 6\n6 run(s) to rerun, 2 at a time\n"))
        << all.out;
    EXPECT_EQ(s.run({"rerun", "1", "--sweep", file}).code, 2); // a run or a sweep, not both
    // Several sweeps: every sample on one pool, a line for each sweep as its last run ends, then one
    // line for them all; one with no run here is named and passed over (exit 2, the worst).
    std::string other = s.write("o.toml", "[sweep]\nname = \"other\"\n[method]\nplugin = \"noop\"\nvalues = 7\n");
    std::string unrun = s.write("u.toml", "[sweep]\nname = \"unrun\"\n[method]\nplugin = \"noop\"\nvalues = 8\n");
    ASSERT_EQ(s.run({"run", other}).code, 0);
    auto several = s.run({"rerun", "--sweep", file, other, unrun, "--sample", "3"}); // as `--sweep *.toml` gives them
    EXPECT_EQ(several.code, 2) << several.out;
    EXPECT_TRUE(has(several.out, file + ": 2 of 3 run(s) reproduced; not reproduced: run " + first + "\n"))
        << several.out;
    EXPECT_TRUE(has(several.out, other + ": 1 of 1 run(s) reproduced\n")) << several.out;
    EXPECT_TRUE(has(several.out, "iclr: error: " + unrun + ": no finished run of the sweep as written in "))
        << several.out;
    EXPECT_TRUE(has(several.out, "3 sweep(s): 3 of 4 run(s) reproduced; not reproduced: " + file + " run " + first +
                                     "; not rerun (above): " + unrun + "\n"))
        << several.out;
    // Workers that cannot start end the sample (every later run would meet them), saying where it
    // stopped and that nothing was recorded, not `iclr run`'s "finished trials are kept".
    s.set_env("ICLR_WORKER_LIB", ICLR_FAILING_WORKER);
    s.set_env("ICLR_TEST_MARKER", s.path("first-worker"));
    auto dead = s.run({"rerun", "--sweep", file, "--sample", "3"});
    EXPECT_EQ(dead.code, 1) << dead.out;
    EXPECT_TRUE(has(dead.out, file + ": stopped after 0 of 3 run(s); no run was compared\n")) << dead.out;
    EXPECT_TRUE(has(dead.out, "injected start-up failure (exit 3); nothing was recorded: free the cause and run the "
                              "same command again"))
        << dead.out;
}

// --sweep: the sample's runs side by side on --jobs workers, each worker kept from one run to the
// next (a fresh worker loads libtorch, about a second a run), each run still in its own folder and
// fresh cache; a run two sweeps drew runs once and counts for both.
TEST(Rerun, ASweepsRunsAreRerunSideBySideInKeptWorkersEachOnce) {
    Scratch s;
    std::string a = s.write("a.toml", "[sweep]\nname = \"a\"\nseeds = 4\n[method]\nplugin = \"fault\"\n"
                                      "mode = \"note_pid\"\ndelay_ms = 500\n");
    std::string b = s.write("b.toml", "[sweep]\nname = \"b\"\nseeds = [3]\n[method]\nplugin = \"fault\"\n"
                                      "mode = \"note_pid\"\ndelay_ms = 500\n");
    ASSERT_EQ(s.run({"run", a}).code, 0);
    ASSERT_EQ(s.run({"run", b}).code, 0);
    ASSERT_EQ(s.sql("SELECT COUNT(*) FROM runs"), "4") << "b's trial is a's fourth";
    auto pids = [&] {
        std::set<std::string> distinct;
        size_t lines = 0;
        std::istringstream in(slurp(s.path("pids")));
        for (std::string pid; std::getline(in, pid); ++lines)
            distinct.insert(pid);
        std::filesystem::remove(s.path("pids"));
        return std::pair(lines, distinct.size());
    };
    s.set_env("ICLR_TEST_PID_FILE", s.path("pids"));
    auto two = s.run({"rerun", "--sweep", a, b, "--sample", "0", "--jobs", "2"});
    ASSERT_EQ(two.code, 0) << two.out;
    EXPECT_TRUE(has(two.out, "4 run(s) of " + a + ": run 1, 2, 3, 4\n1 run(s) of " + b +
                                 ": run 4\n4 run(s) to rerun, 2 at a time\n"))
        << two.out;
    EXPECT_EQ(pids(), (std::pair<size_t, size_t>(4, 2))) << "4 runs, each once, on 2 workers";
    for (int run = 1; run <= 4; ++run) {
        auto scratch = std::filesystem::path(s.path("results/reruns/iclr.db/run-" + std::to_string(run)));
        EXPECT_TRUE(has(slurp((scratch / "logs" / ("run-" + std::to_string(run) + ".log")).string()), "fault: mode"))
            << "run " << run << "'s log in its own folder";
        EXPECT_FALSE(std::filesystem::exists(scratch / "cache")) << "run " << run << "'s fresh cache outlived it";
    }
    EXPECT_TRUE(has(two.out, a + ": 4 of 4 run(s) reproduced\n")) << two.out;
    EXPECT_TRUE(has(two.out, b + ": 1 of 1 run(s) reproduced\n")) << two.out;
    EXPECT_LT(two.out.find("run 4 reproduced: "), two.out.find(b + ": 1 of 1")) << "b's line as its run ends:\n"
                                                                                << two.out;
    EXPECT_TRUE(has(two.out, "2 sweep(s): 5 of 5 run(s) reproduced\n")) << two.out;
    auto one = s.run({"rerun", "--sweep", a, "--sample", "0", "--jobs", "1"});
    ASSERT_EQ(one.code, 0) << one.out;
    EXPECT_TRUE(has(one.out, "4 run(s) to rerun, one after another\n")) << one.out;
    EXPECT_EQ(pids(), (std::pair<size_t, size_t>(4, 1))) << "one worker, kept";
}

// Two commands rerunning one run at once (two terminals, a script beside a user): the second is told
// which process holds the run and reruns nothing, instead of removing the first one's folder and
// fresh cache under it; the first reproduces as if alone, and the run is free again after it.
TEST(Rerun, ARunBeingRerunByAnotherCommandIsRefusedNotShared) {
    Scratch s;
    std::string file = s.write("slow.toml", "[sweep]\nname = \"slow\"\nseeds = 2\n[method]\nplugin = \"noop\"\n"
                                            "sleep_ms = 2500\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    pid_t first = s.start({"rerun", "1"}, s.path("first.txt"));
    ASSERT_TRUE(eventually([&] { return has(slurp(s.path("first.txt")), "rerun of run 1 "); }, 20))
        << slurp(s.path("first.txt"));
    auto second = s.run({"rerun", "1"});
    EXPECT_EQ(second.code, 2) << second.out;
    EXPECT_TRUE(has(second.out, "iclr: error: run 1 is being rerun by another iclr (pid " + std::to_string(first) +
                                    "): wait for it to end, as the two would share " +
                                    s.path("results/reruns/iclr.db/run-1/")))
        << second.out;
    auto sample = s.run({"rerun", "--sweep", file, "--sample", "0"}); // run 2 goes on, run 1 is named
    EXPECT_EQ(sample.code, 1) << sample.out;
    EXPECT_TRUE(has(sample.out, "\nrun 1 is being rerun by another iclr (pid ")) << sample.out;
    EXPECT_TRUE(has(sample.out, "run 2 reproduced: ")) << sample.out;
    EXPECT_TRUE(has(sample.out, file + ": 1 of 2 run(s) reproduced; not rerun (above): run 1\n")) << sample.out;
    ASSERT_EQ(Scratch::wait_code(first), 0) << slurp(s.path("first.txt"));
    EXPECT_TRUE(has(slurp(s.path("first.txt")), "run 1 reproduced: 10 of 10 metric value(s) identical"))
        << slurp(s.path("first.txt"));
    EXPECT_TRUE(std::filesystem::exists(s.path("results/reruns/iclr.db/run-1/logs/run-1.log")))
        << "the first rerun's log, not removed by the second";
    EXPECT_EQ(s.run({"rerun", "1"}).code, 0) << "free once the first ended";
}

// What cannot be rerun is one line naming the run and why, before any worker starts.
TEST(Rerun, AnEditedConfigAnotherPluginVersionOrAnUnfinishedRunIsRefused) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("n.toml", kNoop)}).code, 0);
    std::string config = s.sql("SELECT config_toml FROM runs WHERE id = 1");

    exec(s, "UPDATE runs SET config_toml = replace(config_toml, 'values = 5', 'values = 6') WHERE id = 1");
    auto edited = s.run({"rerun", "1"});
    EXPECT_EQ(edited.code, 2) << edited.out;
    EXPECT_TRUE(has(edited.out, "run 1 cannot be rerun: its recorded config does not read back to its key"))
        << edited.out;

    // Version 0.9.0 of noop, consistently recorded (the key is its config's): today's is 1.1.0.
    std::string old = config;
    old.replace(old.find("version = \"1.1.0\""), 17, "version = \"0.9.0\"");
    std::string old_key = trial_key(old);
    exec(s, "UPDATE runs SET config_toml = '" + old + "', key = '" + old_key + "' WHERE id = 1");
    auto version = s.run({"rerun", old_key.substr(0, 8)});
    EXPECT_EQ(version.code, 2) << version.out;
    EXPECT_TRUE(has(version.out, "it ran method noop 0.9.0, and today's is 1.1.0")) << version.out;

    exec(s, "UPDATE runs SET status = 'pending' WHERE id = 1");
    auto pending = s.run({"rerun", "1"});
    EXPECT_EQ(pending.code, 2) << pending.out;
    EXPECT_TRUE(has(pending.out, "run 1 is pending: there is nothing recorded")) << pending.out;
    exec(s, "UPDATE runs SET status = 'interrupted' WHERE id = 1");
    auto interrupted = s.run({"rerun", "1"});
    EXPECT_EQ(interrupted.code, 2) << interrupted.out;
    EXPECT_TRUE(has(interrupted.out, "run 1 was interrupted: `iclr run` its sweep again")) << interrupted.out;
    EXPECT_EQ(s.run({"rerun", "999"}).code, 2);
    EXPECT_FALSE(std::filesystem::exists(s.path("results/reruns"))) << "no worker started";
}

} // namespace iclr::e2e

namespace iclr::e2e {

// `iclr show RUN --format sweep`: the run's trial as a sweep file (every parameter, its seed, its
// sweep's settings); `iclr run` of it finds the run done and leaves its arm, and an edit runs a variant.
TEST(ShowSweep, ARunAsASweepFileFindsItDoneAndAnEditRunsAVariant) {
    Scratch s;
    std::string file =
        s.write("a.toml", "[sweep]\nname = \"armed\"\nseeds = 2\non_nonfinite = \"record\"\n"
                          "timeout = \"90s\"\n[method]\nplugin = \"noop\"\nvalues = 4\n"
                          "[[arm]]\nname = \"few\"\n[[arm]]\nname = \"more\"\nmethod = { values = 6 }\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    std::string id = s.sql("SELECT id FROM runs WHERE arm = 'more' AND seed = 1");
    auto shown = s.run({"show", id, "--format", "sweep"});
    ASSERT_EQ(shown.code, 0) << shown.out;
    for (const char* want :
         {"[sweep]\nname = \"armed-run-", "seeds = [1]\n", "on_nonfinite = \"record\"\n", "timeout = 90\n",
          "[method]\nplugin = \"noop\" # version 1.1.0 ran it\n", "values = 6\n", "keys = 1\n", "sleep_ms = 0\n"})
        EXPECT_TRUE(has(shown.out, want)) << "missing '" << want << "' in:\n" << shown.out;
    std::string one = s.write("one.toml", shown.out);
    auto again = s.run({"run", one});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "1 trials, 1 already done, 0 to run")) << again.out;
    EXPECT_EQ(s.sql("SELECT arm FROM runs WHERE id = " + id), "more");
    std::string variant = shown.out;
    variant.replace(variant.find("values = 6"), 10, "values = 7");
    auto edited = s.run({"run", s.write("two.toml", variant)});
    EXPECT_EQ(edited.code, 0) << edited.out;
    EXPECT_TRUE(has(edited.out, "1 trials, 0 already done, 1 to run")) << edited.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE seed = 1"), 3);
}

} // namespace iclr::e2e
