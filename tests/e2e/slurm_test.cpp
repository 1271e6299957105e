// Sweeps through a REAL Slurm (slurm-wlm + munge, a single-node cluster that ctest starts with
// tests/slurm/cluster.sh and stops afterwards): same trials as a local run, scancel then resume
// with no duplicates, a worker signalled before its task ends the task, a torn journal ingested up
// to its last good record, sync twice a no-op.
#include <filesystem>
#include <regex>

#include <signal.h>

#include "e2e_util.hpp"
#include "slurm/attempts.hpp"

using namespace iclr::e2e;
namespace fs = std::filesystem;

namespace {

// The cluster ctest started (SLURM_CONF points at it), or why the tests skip.
std::string cluster_missing() {
    const char* conf = std::getenv("SLURM_CONF");
    if (!conf || !fs::exists(conf))
        return "no test cluster (tests/slurm/cluster.sh needs root and slurm-wlm + munge from `make test-deps`)";
    return "";
}

#define REQUIRE_CLUSTER()                                                                                              \
    if (auto why = cluster_missing(); !why.empty()) GTEST_SKIP() << why

// The slurm queue of this user, as squeue prints it.
std::string queue() {
    Scratch tmp;
    return tmp.run_binary("/usr/bin/squeue", {"--me", "-h", "-r", "-o", "%i %T"}).out;
}

bool queue_empty_of(const std::string& job) { return queue().find(job + "_") == std::string::npos; }

std::string run_folder_in(const std::string& out) {
    std::smatch m;
    static const std::regex re("run folder (\\S+)");
    return std::regex_search(out, m, re) ? m[1].str() : "";
}

std::string job_in(const std::string& out) {
    std::smatch m;
    static const std::regex re("job (\\d+)");
    return std::regex_search(out, m, re) ? m[1].str() : "";
}

// What a failed expectation needs to be understood: each run's status and attempts, and what each
// array task of the sweep's run folders said in its log.
std::string story(const Scratch& s, const std::string& folder) {
    std::string out =
        Scratch::sql_in(s.db(), "SELECT group_concat(id || ':' || status || ':' || attempts, ' ') FROM runs") + "\n";
    for (const auto& f : fs::recursive_directory_iterator(fs::path(folder).parent_path()))
        if (f.path().extension() == ".out") out += "== " + f.path().string() + "\n" + slurp(f.path().string());
    return out;
}

// The worker pid the first start record of a folder's journals names.
pid_t first_worker(const std::string& folder) {
    for (const auto& [run, attempts] : iclr::slurm::read_journals(iclr::RunFolder(folder)).runs)
        return pid_t(attempts.front().start.start.worker_pid);
    return 0;
}

std::string sweep_of(const Scratch& s, int sleep_ms, int n) {
    return s.write("slow.toml", "[sweep]\nname = \"slow\"\n[sweep.slurm]\ntrials_per_task = 3\n[method]\n"
                                "plugin = \"noop\"\nvalues = 4\nsleep_ms = " +
                                    std::to_string(sleep_ms) + "\ntag = { range = [0, " + std::to_string(n) + "] }\n");
}

// A sweep of one array task of 3 quick trials, submitted and run to its end, not synced; `why` is
// what went wrong, if anything did.
struct QuickArray {
    std::string sweep, folder, job, why;
};
QuickArray quick_array(const Scratch& s) {
    QuickArray a{sweep_of(s, 0, 3), "", "", ""};
    auto sub = s.run({"run", a.sweep, "--launcher", "slurm"});
    if (sub.code != 0) return {a.sweep, "", "", "exit " + std::to_string(sub.code) + ": " + sub.out};
    a.folder = run_folder_in(sub.out);
    a.job = job_in(sub.out);
    if (!eventually([&] { return queue_empty_of(a.job); }, 120)) a.why = "still queued: " + queue();
    return a;
}

} // namespace

TEST(Slurm, TheCiForgettingSweepGivesTheSameTrialsAsALocalRun) {
    REQUIRE_CLUSTER();
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml";
    auto local = s.run({"run", sweep, "--profile", "ci", "--db", s.path("local.db")});
    ASSERT_EQ(local.code, 0) << local.out;
    auto slurm = s.run({"run", sweep, "--profile", "ci", "--db", s.path("slurm.db"), "--launcher", "slurm",
                        "--trials-per-task", "2", "--wait"});
    ASSERT_EQ(slurm.code, 0) << slurm.out;
    EXPECT_NE(slurm.out.find("submitted"), std::string::npos) << slurm.out;
    // Followed to the end (--wait), it names the next step as a local run does.
    EXPECT_NE(slurm.out.find("claims: iclr verify " + sweep + " --profile ci --db " + s.path("slurm.db") + "\n"),
              std::string::npos)
        << slurm.out;
    const char* keys =
        "SELECT group_concat(key || ':' || status, ',') FROM (SELECT key, status FROM runs ORDER BY key)";
    std::string local_keys = Scratch::sql_in(s.path("local.db"), keys);
    EXPECT_GT(local_keys.size(), 100u);
    EXPECT_EQ(Scratch::sql_in(s.path("slurm.db"), keys), local_keys);
    // the same metric rows per run (values may differ in the last bits: 1 thread here, 2 there)
    const char* rows = "SELECT group_concat(n, ',') FROM (SELECT r.key, COUNT(m.run_id) AS n FROM runs r "
                       "LEFT JOIN metrics m ON m.run_id = r.id GROUP BY r.key ORDER BY r.key)";
    EXPECT_EQ(Scratch::sql_in(s.path("slurm.db"), rows), Scratch::sql_in(s.path("local.db"), rows));
    // the kernels each array task's workers computed with came through the journal (same node here)
    const char* kernels = "SELECT group_concat(DISTINCT kernels) FROM runs";
    EXPECT_EQ(Scratch::sql_in(s.path("slurm.db"), kernels), Scratch::sql_in(s.path("local.db"), kernels));
    EXPECT_NE(Scratch::sql_in(s.path("slurm.db"), kernels).find("OpenBLAS"), std::string::npos);
    EXPECT_EQ(Scratch::sql_in(s.path("slurm.db"), "SELECT COUNT(*) FROM journal_ingests"),
              Scratch::sql_in(s.path("slurm.db"), "SELECT COUNT(*) FROM runs"));
    auto again = s.run({"sync", "--db", s.path("slurm.db")});
    ASSERT_EQ(again.code, 0) << again.out;
    EXPECT_NE(again.out.find(": 0 run(s) written"), std::string::npos) << again.out;
    // A run folder named alone syncs into the database it was made for, not the default one.
    size_t at = slurm.out.find("run folder ");
    ASSERT_NE(at, std::string::npos) << slurm.out;
    std::string folder = slurm.out.substr(at + 11, slurm.out.find('\n', at) - at - 11);
    auto named = s.run({"sync", folder});
    ASSERT_EQ(named.code, 0) << named.out;
    EXPECT_NE(named.out.find(": 0 run(s) written"), std::string::npos) << named.out;
    EXPECT_FALSE(std::filesystem::exists(s.db())) << named.out;
    // the same queries answer: verify on the Slurm database
    auto v = s.run({"verify", sweep, "--profile", "ci", "--db", s.path("slurm.db")});
    EXPECT_EQ(v.code, 0) << v.out;
}

TEST(Slurm, ACancelledArrayTaskIsResumedWithNoTrialCountedTwice) {
    REQUIRE_CLUSTER();
    Scratch s;
    std::string sweep = sweep_of(s, 1500, 6); // 2 array tasks of 3 trials, 1.5 s each
    auto sub = s.run({"run", sweep, "--launcher", "slurm"});
    ASSERT_EQ(sub.code, 0) << sub.out;
    std::string folder = run_folder_in(sub.out), job = job_in(sub.out);
    ASSERT_FALSE(folder.empty()) << sub.out;
    // task 0 has started its first trial (a start record in its journal): cancel it there
    ASSERT_TRUE(eventually(
        [&] {
            return fs::exists(folder + "/journals/" + job + "_0.0.jnl") &&
                   fs::file_size(folder + "/journals/" + job + "_0.0.jnl") > 100;
        },
        60))
        << queue();
    Scratch tmp;
    auto cancel = tmp.run_binary("/usr/bin/scancel", {job + "_0"});
    ASSERT_EQ(cancel.code, 0) << cancel.out;
    ASSERT_TRUE(eventually([&] { return queue_empty_of(job); }, 60)) << queue();
    auto status = s.run({"status", folder});
    EXPECT_NE(status.out.find("ended early"), std::string::npos) << status.out;
    auto resumed = s.run({"run", sweep, "--launcher", "slurm", "--wait"});
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_NE(resumed.out.find("3 already done"), std::string::npos) << resumed.out; // task 1's trials
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 6);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 6 * 4); // 4 rows a trial, none twice
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE attempts = 2"), 1) << story(s, folder); // cancelled mid-way
    auto sync = s.run({"sync"});
    EXPECT_EQ(sync.code, 0) << sync.out;
    EXPECT_NE(sync.out.find("synced slow-"), std::string::npos) << sync.out;
    EXPECT_FALSE(std::regex_search(sync.out, std::regex("[1-9][0-9]* run\\(s\\) written"))) << sync.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 6 * 4);
}

// max_failures with --wait: once that many trials failed, the array tasks not started yet are
// cancelled (the running one finishes) and the run says so; the same command submits the rest.
TEST(Slurm, MaxFailuresCancelsTheArrayTasksNotStartedYet) {
    REQUIRE_CLUSTER();
    Scratch s;
    // 20 array tasks, one at a time, each failing at once: more than follow's 2 s polls can miss.
    std::string sweep = s.write("f.toml", "[sweep]\nname = \"f\"\nmax_failures = 1\n[sweep.slurm]\nmax_parallel = 1\n"
                                          "[method]\nplugin = \"fault\"\nmode = \"throw\"\n"
                                          "delay_ms = { range = [0, 20] }\n");
    auto r = s.run({"run", sweep, "--launcher", "slurm", "--wait"});
    EXPECT_EQ(r.code, 1) << r.out;
    std::string folder = run_folder_in(r.out);
    EXPECT_TRUE(has(r.out, "failed (max_failures = 1): the array tasks not started yet are cancelled, the running "
                           "ones finish"))
        << r.out;
    EXPECT_TRUE(has(r.out, "not done: run the same command again to submit them")) << r.out;
    int64_t failed = s.count("SELECT COUNT(*) FROM runs WHERE status = 'failed'");
    EXPECT_GE(failed, 1) << story(s, folder);
    EXPECT_LT(failed, 10) << story(s, folder);
    EXPECT_TRUE(queue_empty_of(job_in(r.out))) << queue();
    // The sweep's status names its run folder: its pending trials are Slurm's business.
    auto status = s.run({"status", sweep});
    EXPECT_TRUE(has(status.out, "on Slurm: 1 run folder(s), the last " + folder + " (`iclr sync` ingests"))
        << status.out;
    EXPECT_TRUE(has(status.out, "failed")) << status.out;
}

// `iclr run A B --launcher slurm --wait` submits every sweep's array jobs before it follows any, so
// that B's tasks need not wait for A's to end: on the 2-CPU node B's quick failing trial ends (and B
// closes) while A's one slow task still runs. Each run is counted once; the exit status is B's.
TEST(Slurm, SeveralSweepsAreSubmittedFirstThenFollowedTogether) {
    REQUIRE_CLUSTER();
    Scratch s;
    std::string a = s.write("a.toml", "[sweep]\nname = \"a\"\n[sweep.slurm]\ntrials_per_task = 3\n[method]\n"
                                      "plugin = \"noop\"\nvalues = 4\nsleep_ms = 2000\ntag = { range = [0, 3] }\n");
    std::string b = s.write("b.toml", "[sweep]\nname = \"b\"\n[method]\nplugin = \"fault\"\nmode = \"throw\"\n");
    auto r = s.run({"run", a, b, "--launcher", "slurm", "--wait"});
    EXPECT_EQ(r.code, 1) << r.out;
    size_t submitted_b = r.out.find("run folder ", r.out.find("sweep b (#"));
    size_t following = r.out.find("following the array jobs of 2 sweep(s) together");
    size_t first_done = r.out.find("] run ");
    ASSERT_NE(submitted_b, std::string::npos) << r.out;
    EXPECT_LT(submitted_b, following) << r.out;
    EXPECT_LT(following, first_done) << r.out;
    size_t closed_b = r.out.find("sweep b on Slurm: 1 failed in ");
    size_t closed_a = r.out.find("sweep a on Slurm: 3 done in ");
    ASSERT_NE(closed_b, std::string::npos) << r.out;
    ASSERT_NE(closed_a, std::string::npos) << r.out;
    EXPECT_LT(closed_b, closed_a) << r.out;
    EXPECT_TRUE(has(r.out, "a: method.tag=")) << r.out; // one progress line for both: each trial names its sweep
    EXPECT_TRUE(has(r.out, "2 sweep(s) in ")) << r.out;
    EXPECT_TRUE(has(r.out, "; not every trial done in: " + b + "\n")) << r.out;
    EXPECT_EQ(s.sql("SELECT group_concat(n) FROM (SELECT status || ':' || COUNT(*) AS n FROM runs GROUP BY status "
                    "ORDER BY status)"),
              "done:3,failed:1");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM journal_ingests"), 4);
    EXPECT_EQ(queue(), "");
}

// A restarted array task (a requeue) reads its own share of the plan and its own earlier journals:
// the trials it finished are not run again, and nothing is counted twice by the next sync.
TEST(Slurm, ARestartedArrayTaskSkipsWhatItsEarlierAttemptFinished) {
    REQUIRE_CLUSTER();
    Scratch s;
    auto r = s.run({"run", sweep_of(s, 10, 6), "--launcher", "slurm", "--wait"}); // 2 tasks of 3 trials
    ASSERT_EQ(r.code, 0) << r.out;
    std::string folder = run_folder_in(r.out), job = job_in(r.out);
    s.set_env("SLURM_ARRAY_JOB_ID", job);
    s.set_env("SLURM_RESTART_COUNT", "1");
    for (const std::string index : {"0", "1"}) {
        s.set_env("SLURM_ARRAY_TASK_ID", index);
        auto again = s.run({"__slurm-task", folder, "0"});
        EXPECT_EQ(again.code, 0) << again.out;
        std::string range = index == "0" ? "trials 0..3" : "trials 3..6";
        EXPECT_TRUE(has(again.out, "plan task " + index + ", " + range + ", 3 finished already, 0 to run"))
            << again.out;
    }
    auto sync = s.run({"sync"});
    EXPECT_EQ(sync.code, 0) << sync.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done' AND attempts = 1"), 6) << story(s, folder);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 6 * 4);
}

// A big array is not a row per task: above 40 tasks, `iclr status FOLDER` lists those not ended
// with every trial finished (at most 40) and counts the tasks by state.
TEST(Slurm, StatusOfABigArrayListsAtMostFortyTasksAndCountsThemByState) {
    REQUIRE_CLUSTER();
    Scratch s;
    std::string sweep = s.write("big.toml", "[sweep]\nname = \"big\"\n[sweep.slurm]\nmax_parallel = 1\n[method]\n"
                                            "plugin = \"noop\"\nsleep_ms = 2000\ntag = { range = [0, 45] }\n");
    auto sub = s.run({"run", sweep, "--launcher", "slurm"});
    ASSERT_EQ(sub.code, 0) << sub.out;
    std::string folder = run_folder_in(sub.out), job = job_in(sub.out);
    auto status = s.run({"status", folder});
    Scratch tmp;
    tmp.run_binary("/usr/bin/scancel", {job});
    EXPECT_EQ(status.code, 0) << status.out;
    EXPECT_TRUE(has(status.out, "(40 rows)")) << status.out;
    // Counted by state: "44 PENDING, 1 RUNNING (40 listed: ..." once the first task has started,
    // which under load it may have by now (this read "PENDING (40" and failed then).
    EXPECT_TRUE(std::regex_search(status.out, std::regex("array tasks: ([0-9]+ [A-Z]+, )*[0-9]+ PENDING(, [0-9]+ "
                                                         "[A-Z]+)* \\(40 listed: "
                                                         "the first not ended with every trial finished\\)")))
        << status.out;
    EXPECT_TRUE(eventually([&] { return queue_empty_of(job); }, 60)) << queue();
}

// scancel signals every process of the job, and the workers may get it before their task does:
// the task must not take a worker's cancelled trial for a one-off and start the next one.
TEST(Slurm, AWorkerSignalledBeforeItsTaskEndsTheTaskWithNoFurtherTrialStarted) {
    REQUIRE_CLUSTER();
    Scratch s;
    std::string sweep = sweep_of(s, 1500, 3); // one array task of 3 trials, 1.5 s each
    auto sub = s.run({"run", sweep, "--launcher", "slurm"});
    ASSERT_EQ(sub.code, 0) << sub.out;
    std::string folder = run_folder_in(sub.out), job = job_in(sub.out);
    ASSERT_TRUE(eventually([&] { return first_worker(folder) > 0; }, 60)) << queue();
    ASSERT_EQ(kill(first_worker(folder), SIGTERM), 0); // the job's ending, as the worker sees it first
    ASSERT_TRUE(eventually([&] { return queue_empty_of(job); }, 60)) << queue();
    auto sync = s.run({"sync"});
    ASSERT_EQ(sync.code, 0) << sync.out;
    std::string told = story(s, folder);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'interrupted'"), 1) << told;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE attempts > 0"), 1) << told;
    EXPECT_NE(told.find("a worker was stopped by a signal this task did not send"), std::string::npos) << told;
}

TEST(Slurm, ATornJournalIsIngestedUpToItsLastGoodRecordAndResumeRunsTheRest) {
    REQUIRE_CLUSTER();
    Scratch s;
    const QuickArray a = quick_array(s);
    ASSERT_TRUE(a.why.empty()) << a.why;
    std::string journal = a.folder + "/journals/" + a.job + "_0.0.jnl";
    ASSERT_TRUE(fs::exists(journal));
    fs::resize_file(journal, fs::file_size(journal) - 7); // a kill tore the last trial's end record
    auto sync = s.run({"sync"});
    ASSERT_EQ(sync.code, 0) << sync.out;
    EXPECT_NE(sync.out.find("cut short"), std::string::npos) << sync.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'interrupted'"), 1);
    auto twice = s.run({"sync"});
    EXPECT_NE(twice.out.find(": 0 run(s) written, 3 unchanged"), std::string::npos) << twice.out;
    auto resumed = s.run({"run", a.sweep, "--launcher", "slurm", "--wait"});
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_NE(resumed.out.find("2 already done"), std::string::npos) << resumed.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 3);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 3 * 4);
}

// A database migrated to schema 9 while an array launched before it ran: its runs' keys rewritten
// (rekeyed_runs keeps the old ones), while the run folder's plan and the journals carry the keys of
// the launch. `iclr sync` finds the runs by the keys they had, and writes nothing twice. (The keys
// are rewritten here as the migration rewrites them: no iclr of schema 8 is at hand to launch with.)
TEST(Slurm, AnArrayLaunchedBeforeItsDatabaseWasRekeyedIsSyncedIntoTheSameRuns) {
    REQUIRE_CLUSTER();
    Scratch s;
    const QuickArray a = quick_array(s);
    ASSERT_TRUE(a.why.empty()) << a.why;
    auto rekey = s.run_binary("/usr/bin/sqlite3", {s.db(), "INSERT INTO rekeyed_runs(run_id, old_key) SELECT id, key "
                                                           "FROM runs; UPDATE runs SET key = 'rewritten-' || key;"});
    ASSERT_EQ(rekey.code, 0) << rekey.out;
    auto sync = s.run({"sync"});
    ASSERT_EQ(sync.code, 0) << sync.out;
    EXPECT_NE(sync.out.find(": 3 run(s) written"), std::string::npos) << sync.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done' AND key LIKE 'rewritten-%'"), 3);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 3);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 3 * 4);
    auto twice = s.run({"sync"});
    EXPECT_NE(twice.out.find(": 0 run(s) written, 3 unchanged"), std::string::npos) << twice.out;
}

// An array task keeps the cache limit as its trials add entries, as a local run does: one task
// runs three trials that each decode a data set of their own (three data windows) under a limit
// with room for one, and its log says it removed the set before each trial's own, one at a time.
TEST(Slurm, AnArrayTaskKeepsTheCacheLimitAsItsTrialsAddEntries) {
    REQUIRE_CLUSTER();
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/cache/data_windows.toml";
    // A limit with room for the largest set and half another (each is 2.5-3 MB).
    ASSERT_EQ(s.run({"cache", "limit", "4500K"}).code, 0);
    auto run = s.run({"run", sweep, "--launcher", "slurm", "--wait"});
    ASSERT_EQ(run.code, 0) << run.out;
    std::string folder = run_folder_in(run.out);
    ASSERT_FALSE(folder.empty()) << run.out;
    std::string logs;
    for (const auto& e : fs::directory_iterator(folder + "/logs"))
        logs += slurp(e.path().string());
    EXPECT_EQ(occurrences(logs, "cache: removed 1 entry"), 2u) << logs;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'data_cache_hit.dataset' AND value = '0'"), 3);
}

TEST(Slurm, BadSlurmSettingsAreRefusedWithTheirPosition) {
    Scratch s;
    auto r = s.run({"plan", s.write("bad.toml", "[sweep]\nname = \"b\"\n[sweep.slurm]\ntrials_per_task = 0\n"
                                                "[method]\nplugin = \"noop\"\n")});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("bad.toml:4:19: sweep.slurm.trials_per_task must be an integer from 1 to"), std::string::npos)
        << r.out;
    auto u = s.run({"plan", s.write("u.toml", "[sweep]\nname = \"b\"\n[sweep.slurm]\nqueue = \"x\"\n"
                                              "[method]\nplugin = \"noop\"\n")});
    EXPECT_NE(u.out.find("unknown key sweep.slurm.queue"), std::string::npos) << u.out;
}

TEST(Gpus, PinnedWorkersFitTheGpusAndRunsRecordTheDeviceTheyGot) {
    Scratch s;
    s.set_env("CUDA_VISIBLE_DEVICES", "0,1"); // two made-up GPUs; libtorch here is CPU-only
    std::string sweep = s.write("g.toml", "[sweep]\nname = \"g\"\njobs = 4\n[method]\nplugin = \"noop\"\n"
                                          "tag = { range = [0, 4] }\n");
    auto r = s.run({"run", sweep, "--gpus", "0,1"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("2 GPU(s) x 1 trial(s) each: 2 job(s) at once, not 4"), std::string::npos) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done' AND device = 'cpu'"), 4);
    auto bad = s.run({"run", sweep, "--gpus", "3"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.out.find("--gpus 3: GPU 3 is not visible here (visible: 0,1)"), std::string::npos) << bad.out;
}
