// A configuration a plugin's constructor refuses is one error before a sweep runs (plan and run),
// at the sweep's line, naming the trials it would have failed; nothing is recorded.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "common/process.hpp"
#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

// glimpse_evidence's constructor refuses digit_a == digit_b: a rule between two parameters that
// each pass the schema.
std::string glimpse_sweep(const std::string& digit_b) {
    return "[sweep]\nname = \"g\"\nseeds = [0, 1, 2]\n"
           "[dataset]\nplugin = \"glimpse_evidence\"\ndigit_a = 3\ndigit_b = " +
           digit_b + "\n[model]\nplugin = \"mlp\"\n[method]\nplugin = \"finetune\"\nepochs = 1\n";
}

} // namespace

TEST(ConstructorCheck, PlanAndRunRefuseWhatAConstructorRefusesWithNothingRecorded) {
    Scratch s;
    std::string file = s.write("g.toml", glimpse_sweep("3"));
    const std::string want = "g.toml:5:10: dataset 'glimpse_evidence' (constructor): glimpse_evidence: digit_a and "
                             "digit_b are the same digit (3 trial(s); found before any ran)";
    auto plan = s.run({"plan", file});
    EXPECT_EQ(plan.code, 2) << plan.out;
    EXPECT_TRUE(has(plan.out, want)) << plan.out;
    EXPECT_FALSE(has(plan.out, "valid: yes")) << plan.out;
    auto run = s.run({"run", file});
    EXPECT_EQ(run.code, 2) << run.out;
    EXPECT_TRUE(has(run.out, want)) << run.out;
    EXPECT_EQ(occurrences(run.out, "(constructor)"), 1u) << run.out; // one line, not one per seed
    EXPECT_FALSE(std::filesystem::exists(s.db())) << "the check runs before the database is opened";
    // Fixed, the same sweep plans with the check's count and runs.
    std::string fixed = s.write("g.toml", glimpse_sweep("5"));
    auto ok = s.run({"plan", fixed});
    EXPECT_EQ(ok.code, 0) << ok.out;
    EXPECT_TRUE(has(ok.out, "constructors: 3 plugin configuration(s) built in a worker and accepted")) << ok.out;
}

TEST(ConstructorCheck, AGridPointAndTheArmsSharingItAreNamed) {
    Scratch s;
    std::string file = s.write("g.toml", R"([sweep]
name = "g"
seeds = [0, 1]
[dataset]
plugin = "glimpse_evidence"
digit_a = 3
digit_b = { grid = [3, 5, 8] }
[model]
plugin = "mlp"
[method]
plugin = "finetune"
epochs = 1
[[arm]]
name = "small"
model = { width = 16 }
[[arm]]
name = "wide"
model = { width = 32 }
)");
    auto excluding = [&](const std::string& value) {
        std::string text = slurp(file);
        return s.write("e.toml",
                       text.insert(text.find("[dataset]"), "exclude = [{ \"dataset.digit_b\" = " + value + " }]\n"));
    };
    // Without exclusions each section's own grid is walked; with them, every trial is visited.
    for (const std::string& sweep : {file, excluding("5")}) {
        auto r = s.run({"plan", sweep});
        EXPECT_EQ(r.code, 2) << r.out;
        EXPECT_TRUE(has(r.out, ":10: dataset 'glimpse_evidence' (constructor): glimpse_evidence: digit_a and "
                               "digit_b are the same digit (4 trial(s) with dataset.digit_b=3 in arms small, wide; "
                               "found before any ran)"))
            << r.out;
        EXPECT_EQ(occurrences(r.out, "(constructor)"), 1u) << r.out; // 5 and 8 pass; the two arms share one line
    }
    // Excluding the refused point leaves a sweep the check accepts: digit_b 5 and 8, two widths, one
    // method configuration.
    auto e = s.run({"plan", excluding("3")});
    EXPECT_EQ(e.code, 0) << e.out;
    EXPECT_TRUE(has(e.out, "constructors: 5 plugin configuration(s)")) << e.out;
}

TEST(ConstructorCheck, AHundredMillionTrialGridChecksItsFirstConfigurationsAndSaysSo) {
    Scratch s;
    std::string file = s.write("big.toml", "[method]\nplugin = \"noop\"\nvalues = { range = [0, 10000] }\n"
                                           "tag = { range = [0, 10000] }\n");
    auto r = s.run({"plan", file});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "trials: 100000000")) << r.out;
    EXPECT_TRUE(has(r.out, "constructors: 5000 plugin configuration(s) built in a worker and accepted (the first "
                           "5000; the rest are left to their trials)"))
        << r.out;
}

TEST(ConstructorCheck, AConstructorThatCrashesOrHangsIsNamedAndTheOthersAreStillChecked) {
    Scratch s;
    std::string file =
        s.write("f.toml", "[sweep]\nname = \"f\"\ntimeout = 2\n[method]\nplugin = \"fault\"\n"
                          "mode = { grid = [\"construct_crash\", \"ok\", \"construct_hang\", \"typo\"] }\n");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(has(r.out, "f.toml:5:10: method 'fault' (constructor): worker died: ")) << r.out;
    EXPECT_TRUE(has(r.out, "SIGSEGV")) << r.out;
    EXPECT_TRUE(has(r.out, "(1 trial(s) with method.mode=\"construct_crash\"; found before any ran)")) << r.out;
    EXPECT_TRUE(has(r.out, "method 'fault' (constructor): did not return within 2.0s; worker killed (1 trial(s) with "
                           "method.mode=\"construct_hang\""))
        << r.out;
    EXPECT_TRUE(has(r.out, "parameter 'dealy_ms' is not in this plugin's schema")) << r.out;
    EXPECT_EQ(occurrences(r.out, "(constructor)"), 3u) << r.out; // "ok" passes
    EXPECT_FALSE(std::filesystem::exists(s.db()));
}

// The checks are sent to the worker ahead of the one it builds (Scheduler::send_checks_ahead).
// Here the second configuration crashes the worker with the next ones already in its pipe: those
// go back to the queue and the next worker builds each of them once, none lost, none twice.
TEST(ConstructorCheck, ChecksSentAheadOfAWorkerThatDiesAreEachBuiltOnceByTheNext) {
    Scratch s;
    s.set_env("ICLR_TEST_PID_FILE", s.path("pids"));
    std::string file = s.write("c.toml", "[sweep]\nname = \"c\"\n"
                                         "exclude = [{ \"method.mode\" = \"construct_crash\", \"method.delay_ms\" = "
                                         "{ ge = 1 } }]\n[method]\nplugin = \"fault\"\n"
                                         "mode = { grid = [\"note_pid\", \"construct_crash\"] }\n"
                                         "delay_ms = { range = [0, 20] }\n");
    auto r = s.run({"plan", file});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(has(r.out, "c.toml:5:10: method 'fault' (constructor): worker died: signal 11 (SIGSEGV) (1 trial(s) "
                           "with method.delay_ms=0, method.mode=\"construct_crash\"; found before any ran)"))
        << r.out;
    std::map<std::string, int> by_pid;
    std::istringstream pids(slurp(s.path("pids")));
    for (std::string pid; std::getline(pids, pid);)
        ++by_pid[pid];
    ASSERT_EQ(by_pid.size(), 2u) << slurp(s.path("pids")); // the first worker, then the one after its crash
    std::vector<int> counts;
    for (const auto& [pid, n] : by_pid)
        counts.push_back(n);
    std::sort(counts.begin(), counts.end());
    EXPECT_EQ(counts, (std::vector<int>{1, 19})) << "delay_ms=0 before the crash, 1..19 after it";
}

// The check's worker is the pool's first: the trial runs where its plugins were just constructed,
// instead of a second worker loading libtorch again (about a second a run).
TEST(ConstructorCheck, TheChecksWorkerRunsTheSweepsTrials) {
    Scratch s;
    s.set_env("ICLR_TEST_PID_FILE", s.path("pids"));
    auto r = s.run({"run", s.write("p.toml", "[sweep]\nname = \"p\"\njobs = 1\n[method]\nplugin = \"fault\"\n"
                                             "mode = \"note_pid\"\n")});
    ASSERT_EQ(r.code, 0) << r.out;
    std::string pid = s.sql("SELECT worker_pid FROM runs");
    EXPECT_EQ(slurp(s.path("pids")), pid + "\n" + pid + "\n") << "constructed by the check, then by the trial";
}

// `iclr run A B C`: every sweep's constructors are checked, on the workers its trials will use (one
// for jobs = 1, two for two's jobs = 2), before any trial runs (a refusal in the last file runs
// none), and the workers go on from one sweep to the next, except where a sweep starts them under
// another memory limit.
TEST(ConstructorCheck, SeveralSweepsAreCheckedBeforeAnyRunsAndKeepTheirWorkers) {
    Scratch s;
    s.set_env("ICLR_TEST_PID_FILE", s.path("pids"));
    auto sweep = [&](const std::string& name, const std::string& settings, int delay_ms) {
        return s.write(name + ".toml", "[sweep]\nname = \"" + name + "\"\n" + settings +
                                           "[method]\nplugin = \"fault\"\nmode = \"note_pid\"\ndelay_ms = " +
                                           std::to_string(delay_ms) + "\n");
    };
    std::string one = sweep("one", "jobs = 1\n", 0);
    std::string two = sweep("two", "jobs = 2\nseeds = 6\n", 1);
    std::string limited = sweep("limited", "jobs = 1\nmemory_mb = 8000\n", 2);
    std::string bad = s.write("g.toml", glimpse_sweep("3"));

    auto refused = s.run({"run", one, bad});
    EXPECT_EQ(refused.code, 2) << refused.out;
    EXPECT_TRUE(has(refused.out, "g.toml:5:10: dataset 'glimpse_evidence' (constructor): glimpse_evidence: digit_a "
                                 "and digit_b are the same digit (3 trial(s); found before any ran)"))
        << refused.out;
    EXPECT_TRUE(has(refused.out, "iclr run: nothing was run: 1 of the 2 sweep file(s) refused (above)")) << refused.out;
    EXPECT_FALSE(std::filesystem::exists(s.db())) << "one's trial ran before g's check";

    std::filesystem::remove(s.path("pids"));
    auto r = s.run({"run", one, two, limited});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "constructors: 3 plugin configuration(s) of the 3 sweeps built in 2 workers and accepted"))
        << r.out;
    std::istringstream pids(slurp(s.path("pids")));
    std::vector<std::string> noted{std::istream_iterator<std::string>(pids), {}};
    ASSERT_EQ(noted.size(), 3u + 1 + 6 + 1) << "three checks, then the trials";
    EXPECT_EQ(noted[1], noted[0]) << "the worker that checked one, ready first, builds two's configuration";
    EXPECT_NE(noted[2], noted[0]) << "but a worker's memory limit is set when it starts";
    auto pids_of = [&](const std::string& name) {
        return "," +
               s.sql("SELECT group_concat(DISTINCT r.worker_pid) FROM runs r JOIN sweeps w ON w.id = r.sweep_id "
                     "WHERE w.name = '" +
                     name + "'") +
               ",";
    };
    std::string first = pids_of("one");
    EXPECT_EQ(occurrences(first, ","), 2u) << first;
    EXPECT_TRUE(has(pids_of("two"), first)) << "the first sweep's worker is kept for the next";
    std::string last = pids_of("limited");
    EXPECT_EQ(occurrences(last, ","), 2u) << last;
    EXPECT_FALSE(has(pids_of("two"), last)) << "a new memory limit needs a new worker";
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1 + 6 + 1);

    std::filesystem::remove(s.path("pids")); // `iclr plan A B` checks them in one worker too
    auto plan = s.run({"plan", one, two});
    EXPECT_EQ(plan.code, 0) << plan.out;
    std::istringstream planned(slurp(s.path("pids")));
    std::vector<std::string> checked{std::istream_iterator<std::string>(planned), {}};
    ASSERT_EQ(checked.size(), 2u);
    EXPECT_EQ(checked[0], checked[1]);
}

// Ctrl-C while the check builds the configurations (a constructor hangs): exit 130, nothing
// recorded, no database file left, no worker left (the orphan check).
TEST(ConstructorCheck, CtrlCDuringTheCheckRecordsNothing) {
    Scratch s;
    s.set_env("ICLR_TEST_PID_FILE", s.path("pids"));
    std::string file = s.write("h.toml", "[method]\nplugin = \"fault\"\nmode = { grid = [\"note_pid\", "
                                         "\"construct_hang\"] }\n");
    pid_t pid = s.start({"run", file}, s.path("out.txt"));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(s.path("pids")); }, 60));
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // into the hanging constructor
    kill(pid, SIGINT);
    EXPECT_EQ(Scratch::wait_code(pid), 130);
    std::string out = slurp(s.path("out.txt"));
    EXPECT_TRUE(has(out, "stopped by SIGINT while building the plugin configurations; nothing was recorded")) << out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
}

namespace {

// The pid of a running child of `parent` whose command line holds `needle`, or 0.
pid_t child_running(pid_t parent, const std::string& needle) {
    for (auto [pid, zombie] : iclr::child_processes(parent))
        if (!zombie && has(slurp("/proc/" + std::to_string(pid) + "/cmdline"), needle)) return pid;
    return 0;
}

} // namespace

// Ctrl-C before the lock, while the plugins are probed (the first run after a build; here a plugin
// hangs in dlopen): one line on stderr and death by SIGINT (130 to a shell, and a script's loop
// stops too), nothing recorded, no database file, the probe gone with it.
TEST(ConstructorCheck, CtrlCWhileProbingThePluginsSaysSoAndRecordsNothing) {
    Scratch s;
    s.set_env("ICLR_PLUGIN_PATH", std::string(ICLR_FIXTURE_HANG_DIR) + ":" + ICLR_FIXTURE_OK_DIR);
    s.set_env("ICLR_PROBE_TIMEOUT", "120");
    std::string file = s.write("p.toml", "[method]\nplugin = \"noop\"\n");
    pid_t pid = s.start({"run", file}, s.path("out.txt"));
    pid_t probe = 0;
    ASSERT_TRUE(eventually([&] { return (probe = child_running(pid, "hang_on_load")) != 0; }, 60));
    kill(pid, SIGINT);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(Scratch::wait_code(pid), 130);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0) << "not the timeout";
    EXPECT_EQ(slurp(s.path("out.txt")),
              "iclr: stopped by SIGINT while reading the sweep and its plugins; nothing was recorded\n");
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    // Orphaned, the probe comes to this test process (the suite's subreaper): gone means reaped here.
    EXPECT_TRUE(eventually(
        [&] {
            int st;
            return waitpid(probe, &st, WNOHANG) == probe;
        },
        10))
        << "the probe outlived iclr";
}

// `iclr run` loads each data set configuration in the check too: a data folder without the files
// (no `make data`) is one error naming the data set, not a failed run per trial; `plan`, a dry run,
// does not load. And the check's worker keeps what it loaded for the trials it runs.
TEST(ConstructorCheck, RunLoadsEachDataSetFirstSoMissingDataIsOneError) {
    Scratch s;
    std::string file = s.write("g.toml", glimpse_sweep("5"));
    auto plan = s.run({"plan", file});
    EXPECT_EQ(plan.code, 0) << plan.out;
    EXPECT_FALSE(std::filesystem::exists(s.path("results/cache/data"))) << "plan wrote the data cache";
    EXPECT_FALSE(has(plan.out, "note: the data folder")) << plan.out;
    // plan loads nothing, but a data folder that is not there at all is worth its line.
    s.set_env("ICLR_DATA", s.path("nowhere"));
    auto nowhere = s.run({"plan", file});
    EXPECT_EQ(nowhere.code, 0) << nowhere.out;
    EXPECT_TRUE(has(nowhere.out, "note: the data folder " + s.path("nowhere") +
                                     " does not exist (`make data`, or set "
                                     "ICLR_DATA; `iclr run --data DIR`)\njobs: "))
        << nowhere.out;
    std::filesystem::create_directories(s.path("empty"));
    s.set_env("ICLR_DATA", s.path("empty"));
    auto run = s.run({"run", file});
    EXPECT_EQ(run.code, 2) << run.out;
    EXPECT_TRUE(has(run.out, "g.toml:5:10: dataset 'glimpse_evidence': cannot read " + s.path("empty") +
                                 "/mnist/train-images-idx3-ubyte (run `make data`, or set ICLR_DATA / --data) (3 "
                                 "trial(s); found before any ran)"))
        << run.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    // The grid points that fail alike are one line.
    std::string grid = slurp(file);
    grid.insert(grid.find("[model]"), "train_trials = { grid = [16, 32] }\n");
    auto points = s.run({"run", s.write("grid.toml", grid)});
    EXPECT_EQ(points.code, 2) << points.out;
    EXPECT_EQ(occurrences(points.out, "cannot read"), 1u) << points.out;
    EXPECT_TRUE(has(points.out, "(6 trial(s) with dataset.train_trials=16 or dataset.train_trials=32; found before "
                                "any ran)"))
        << points.out;

    // 1,000 test images: over the data cache's 1 MiB floor.
    s.set_env("ICLR_DATA", Scratch::data_dir());
    std::string small = s.write("s.toml", "[sweep]\nname = \"s\"\nseeds = 2\njobs = 1\n[dataset]\nplugin = \"mnist\"\n"
                                          "train_per_class = 10\ntest_per_class = 100\n"
                                          "[model]\nplugin = \"mlp\"\nwidth = 8\n[method]\nplugin = \"finetune\"\n"
                                          "epochs = 1\n");
    auto ok = s.run({"run", small});
    ASSERT_EQ(ok.code, 0) << ok.out;
    // The check decoded the set and wrote its cache entry; the trials found it loaded (1, not 0).
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(value) FROM attributes WHERE key = 'data_cache_hit.dataset'"), "1,1");
}

// A data set whose tasks hold examples of another shape than its input_shape (glimpse_evidence's
// single glimpses) fails an MLP's first layer; the error says so in the sweep's terms.
TEST(ConstructorCheck, AnExampleShapeTheModelWasNotBuiltForIsNamed) {
    Scratch s;
    auto r = s.run({"run", s.write("g.toml", glimpse_sweep("5")), "--set", "dataset.train_trials=16", "--set",
                    "dataset.test_trials=16"});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(occurrences(r.out, "(dataset 'glimpse_evidence': task 'single' holds examples of shape [1, 196], not "
                                 "the input_shape [9, 196] model 'mlp' was built for)"),
              3u)
        << r.out;
}
