// End-to-end fault handling: crashing, throwing and hanging trials; Ctrl-C; kill -9; a second run.
#include <gtest/gtest.h>

#include <random>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

// A sweep "slow" of `trials` noop trials, each sleeping sleep_ms, on `jobs` workers.
std::string slow_sweep(int jobs, int sleep_ms, int trials) {
    return "[sweep]\nname = \"slow\"\njobs = " + std::to_string(jobs) +
           "\n[method]\nplugin = \"noop\"\nsleep_ms = " + std::to_string(sleep_ms) + "\ntag = { range = [0, " +
           std::to_string(trials) + "] }\n";
}
const std::string kSlowSweep = slow_sweep(2, 300, 12);
} // namespace

TEST(Faults, CrashingAndThrowingTrialsAreRecordedAndTheSweepGoesOn) {
    Scratch s;
    std::string file = s.write("f.toml", R"(
[sweep]
name = "faults"
jobs = 2
[method]
plugin = "fault"
mode = { grid = ["ok", "crash", "abort", "throw", "exit"] }
delay_ms = { grid = [0, 1] }
)");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 1) << r.out; // something failed
    EXPECT_TRUE(has(r.out, "2 done, 8 failed")) << r.out;
    auto status_of = [&](const std::string& mode) {
        return s.sql("SELECT group_concat(DISTINCT status) FROM runs WHERE json_extract(config_json, "
                     "'$.method.params.mode') = '" +
                     mode + "'");
    };
    EXPECT_EQ(status_of("ok"), "done");
    EXPECT_EQ(status_of("crash"), "failed");
    EXPECT_EQ(
        s.sql("SELECT DISTINCT signal FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'crash'"),
        "11");
    EXPECT_EQ(
        s.sql("SELECT DISTINCT signal FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'abort'"),
        "6");
    EXPECT_EQ(
        s.sql("SELECT DISTINCT exit_code FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'exit'"),
        "3");
    EXPECT_EQ(
        s.sql("SELECT DISTINCT error FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'throw'"),
        "method 'fault': injected failure");
    EXPECT_EQ(
        s.sql("SELECT DISTINCT error FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'crash'"),
        "worker died: signal 11 (SIGSEGV)");
    EXPECT_TRUE(has(
        s.sql("SELECT log_tail FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'crash' LIMIT 1"),
        "fault: mode crash"));
    // Metrics logged before a crash are kept with the failed run (the worker flushes them from its
    // signal handler); only _exit() loses them, as nothing runs after it.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'started'"), 8);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'finished'"), 2);

    // Rerunning retries the failures only (they fail again, deterministically) and keeps the rest.
    auto again = s.run({"run", file});
    EXPECT_TRUE(has(again.out, "10 trials, 2 already done, 8 to run")) << again.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 10);
    EXPECT_EQ(s.count("SELECT MAX(attempts) FROM runs"), 2);
}

// max_failures: after that many failures no more trials start (a systematic error would fail them
// all); the running ones finish and the rest stay pending, and the same command runs them later.
TEST(Faults, MaxFailuresStopsStartingTrialsAndTheRestRunLater) {
    Scratch s;
    std::string file = s.write("m.toml", "[sweep]\nname = \"m\"\njobs = 1\nmax_failures = 1\n[method]\n"
                                         "plugin = \"fault\"\nmode = \"throw\"\ndelay_ms = { range = [0, 6] }\n");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.out, "0 done, 1 failed, 0 interrupted, 5 not started")) << r.out;
    EXPECT_TRUE(has(r.out, "stopped starting trials after 1 failed (max_failures = 1); 5 not started: mend the "
                           "cause and run the same command again"))
        << r.out;
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(status || ':' || n) FROM (SELECT status, COUNT(*) AS n FROM runs "
                    "GROUP BY status ORDER BY status)"),
              "failed:1,pending:5");
    // The flag overrides the sweep's key.
    auto three = s.run({"run", file, "--max-failures", "3"});
    EXPECT_TRUE(has(three.out, "6 trials, 0 already done, 6 to run")) << three.out;
    EXPECT_TRUE(has(three.out, "0 done, 3 failed, 0 interrupted, 3 not started")) << three.out;
    // 0: no limit. Every trial runs, each one row however often it was tried.
    auto all = s.run({"run", file, "--max-failures", "0"});
    EXPECT_TRUE(has(all.out, "0 done, 6 failed, 0 interrupted, 0 skipped")) << all.out;
    EXPECT_FALSE(has(all.out, "stopped starting")) << all.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 6);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 6);
}

TEST(Faults, HungTrialTimesOutAndOthersComplete) {
    Scratch s;
    std::string file = s.write("h.toml", R"(
[sweep]
name = "hang"
jobs = 2
timeout = 1.5
[method]
plugin = "fault"
mode = { grid = ["hang", "ok"] }
delay_ms = { grid = [0, 1] }
)");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'timeout'"), 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 2);
    EXPECT_TRUE(
        has(s.sql("SELECT error FROM runs WHERE status = 'timeout' LIMIT 1"), "exceeded the trial timeout of 1.5s"));
    EXPECT_EQ(s.sql("SELECT signal FROM runs WHERE status = 'timeout' LIMIT 1"), "9");
}

TEST(Faults, CtrlCStopsCleanlyAndTheRerunFinishesOnlyWhatIsMissing) {
    Scratch s;
    std::string file = s.write("slow.toml", kSlowSweep);
    pid_t pid = s.start({"run", file}, s.path("run1.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'") >= 2; }, 60));
    kill(pid, SIGINT);
    EXPECT_EQ(Scratch::wait_code(pid), 130);
    int64_t done = s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'");
    int64_t interrupted = s.count("SELECT COUNT(*) FROM runs WHERE status = 'interrupted'");
    EXPECT_GE(done, 2);
    EXPECT_LT(done, 12);
    EXPECT_GE(interrupted, 1); // the trials that were running
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'"), 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 12);

    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(
        has(r.out, "12 trials, " + std::to_string(done) + " already done, " + std::to_string(12 - done) + " to run"))
        << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 12);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 12 * 10); // no duplicates from the interrupted attempts
}

// `iclr run A B C` with alike pools (jobs, threads, memory limit, ...): one queue, so B's and C's
// trials run beside A's long one instead of waiting for it, each sweep closing as its last trial
// ends; a trial C shares with B runs once, for B. Ctrl-C stops the queue as one sweep's, and the
// same command again finishes what is missing, nothing twice. A trial's timeout is its sweep's.
TEST(Faults, SweepsWithAlikePoolsRunAsOneQueueAndCloseInTurn) {
    Scratch s;
    auto noop = [&](const std::string& name, const std::string& sweep, const std::string& method) {
        return s.write(name + ".toml", "[sweep]\nname = \"" + name + "\"\njobs = 2\n" + sweep +
                                           "[method]\nplugin = \"noop\"\n" + method);
    };
    std::string a = noop("a", "", "sleep_ms = 4000\n");
    std::string b = noop("b", "", "sleep_ms = 100\ntag = { range = [0, 4] }\n");
    std::string c = noop("c", "", "sleep_ms = 100\ntag = { range = [2, 6] }\n");
    auto r = s.run({"run", a, b, c});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "one queue for the 3 sweeps, 7 trial(s)")) << r.out;
    EXPECT_TRUE(has(r.out, "sweep c (#3): 4 trials, 0 already done, 2 run for a sweep before it, 2 to run")) << r.out;
    size_t closed_a = r.out.find("sweep a: 1 done, 0 failed, 0 interrupted, 0 skipped");
    size_t closed_b = r.out.find("sweep b: 4 done, 0 failed, 0 interrupted, 0 skipped");
    size_t closed_c = r.out.find("sweep c: 2 done, 0 failed, 0 interrupted, 0 skipped");
    ASSERT_NE(closed_a, std::string::npos) << r.out;
    EXPECT_LT(closed_b, closed_a) << "b's trials ran beside a's, not after it: " << r.out;
    EXPECT_LT(closed_c, closed_a) << r.out;
    EXPECT_TRUE(has(r.out, "b: method.tag=")) << r.out; // each trial's line names its sweep
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1 + 4 + 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 1 + 4 + 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), (1 + 4 + 2) * 10);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT worker_pid) FROM runs"), 2);
    auto shared = s.run({"query", "--sweep", c,
                         "SELECT COUNT(*) FROM sweep_runs s JOIN runs r ON r.id = s.id "
                         "WHERE r.status = 'done'"});
    EXPECT_TRUE(has(shared.out, "4")) << shared.out;
    auto again = s.run({"run", a, b, c});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "sweep c: 0 done, 0 failed, 0 interrupted, 4 skipped (already done)")) << again.out;
    EXPECT_FALSE(has(again.out, "one queue")) << again.out;

    // Stopped while a sweep of two long trials fills both workers: the others have not started.
    std::string d = noop("d", "seeds = 2\n", "sleep_ms = 3000\n");
    std::string db = s.path("stopped.db");
    pid_t pid = s.start({"run", d, b, c, "--db", db}, s.path("stopped.txt"));
    ASSERT_TRUE(eventually(
        [&] {
            return std::filesystem::exists(db) &&
                   Scratch::sql_in(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'") == "2";
        },
        60));
    kill(pid, SIGINT);
    EXPECT_EQ(Scratch::wait_code(pid), 130);
    std::string out = slurp(s.path("stopped.txt"));
    EXPECT_TRUE(has(out, "sweep d: 0 done, 0 failed, 2 interrupted")) << out;
    EXPECT_EQ(occurrences(out, "stopped by SIGINT; run the same command again"), 1u) << out;
    EXPECT_TRUE(has(out, "not started: " + b + " " + c + "\n")) << out;
    EXPECT_EQ(Scratch::sql_in(db, "SELECT COUNT(*) FROM runs WHERE status IN ('running', 'done')"), "0");
    auto resumed = s.run({"run", d, b, c, "--db", db});
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_EQ(Scratch::sql_in(db, "SELECT COUNT(*) || ' ' || SUM(status = 'done') FROM runs"), "8 8");
    EXPECT_EQ(Scratch::sql_in(db, "SELECT COUNT(*) FROM metrics"), "80"); // nothing from the stopped attempts

    // Each trial has its own sweep's timeout: e's 1 s kills e's trial, not a's 4 s one beside it.
    std::string e = noop("e", "timeout = \"1s\"\n", "sleep_ms = 3000\n");
    std::string timed = s.path("timed.db");
    auto t = s.run({"run", a, e, "--db", timed});
    EXPECT_EQ(t.code, 1) << t.out;
    EXPECT_TRUE(has(t.out, "one queue for the 2 sweeps")) << t.out;
    EXPECT_TRUE(has(t.out, "; not every trial done in: " + e + "\n")) << t.out;
    EXPECT_EQ(Scratch::sql_in(timed, "SELECT group_concat(w.name || ':' || r.status, ' ') FROM runs r JOIN sweeps w "
                                     "ON w.id = r.sweep_id"),
              "a:done e:timeout");

    // A trial h shares with g fails under g: h's closing line waits for it and says how it ended,
    // and h counts as not every trial done, as it would run alone (where it would retry it).
    auto fault = [&](const std::string& name, const std::string& mode) {
        return s.write(name + ".toml", "[sweep]\nname = \"" + name + "\"\njobs = 2\n[method]\nplugin = \"fault\"\n" +
                                           "delay_ms = 300\nmode = " + mode + "\n");
    };
    std::string g = fault("g", "\"throw\"");
    std::string h = fault("h", "{ grid = [\"throw\", \"ok\"] }");
    std::string shared_db = s.path("shared.db");
    auto gh = s.run({"run", g, h, "--db", shared_db});
    EXPECT_EQ(gh.code, 1) << gh.out;
    EXPECT_TRUE(has(gh.out, "sweep h (#2): 2 trials, 0 already done, 1 run for a sweep before it, 1 to run")) << gh.out;
    EXPECT_TRUE(has(gh.out, "sweep h: 1 done, 0 failed, 0 interrupted, 0 skipped (already done) in ")) << gh.out;
    EXPECT_TRUE(has(gh.out, "\nof the 1 run(s) for a sweep before it: 0 done, 1 failed (run 1)\n")) << gh.out;
    EXPECT_LT(gh.out.find("sweep g: 0 done, 1 failed"), gh.out.find("sweep h: 1 done")) << gh.out;
    EXPECT_TRUE(has(gh.out, "; not every trial done in: " + g + " " + h + "\n")) << gh.out;

    // `iclr plan` of several files says how `iclr run` of them would run them; a failure budget
    // runs a sweep alone (its pool stops starting trials at the budget).
    std::string f = noop("f", "max_failures = 1\n", "");
    auto plan = s.run({"plan", a, b, e, f, c});
    EXPECT_EQ(plan.code, 0) << plan.out;
    EXPECT_TRUE(has(plan.out, "`iclr run` of these files runs 3 queues in turn (with --jobs N, one):\n"
                              "  one queue (jobs 2): a, b, e\n  alone (max_failures = 1): f\n  alone (jobs 2): c\n"))
        << plan.out;
}

// `iclr run A B C`: every file is read before anything runs (one that cannot be read runs none),
// then each sweep in turn; Ctrl-C stops the one running as it would alone and starts no other, and
// running the same command again finishes what is missing, nothing twice.
TEST(Faults, SeveralSweepsAreReadFirstRunInTurnAndCtrlCStartsNoOther) {
    Scratch s;
    std::string fast = s.write("fast.toml", "[sweep]\nname = \"fast\"\nseeds = 2\n[method]\nplugin = \"noop\"\n");
    std::string slow = s.write("slow.toml", kSlowSweep);
    std::string last =
        s.write("last.toml", "[sweep]\nname = \"last\"\nseeds = 3\n[method]\nplugin = \"noop\"\nvalues = 4\n"
                             "[[claim]]\nname = \"some value\"\nkind = \"at_least\"\nthreshold = 0\n"
                             "metric = \"value\"\n");
    std::string bad = s.write("bad.toml", "[sweep]\nname = \"bad\"\n[method]\nplugin = \"nope\"\n");
    std::string huge = s.write(
        "huge.toml", "[method]\nplugin = \"noop\"\nvalues = { range = [0, 10000] }\ntag = { range = [0, 10000] }\n");
    auto refused = s.run({"run", fast, bad, last, huge});
    EXPECT_EQ(refused.code, 2) << refused.out;
    EXPECT_TRUE(has(refused.out, "iclr: error: " + bad + ":4:10: unknown method plugin 'nope'")) << refused.out;
    EXPECT_TRUE(has(refused.out, "iclr: error: " + huge + ": 100000000 trials is more than one `iclr run` takes"))
        << refused.out;
    EXPECT_TRUE(has(refused.out, "iclr run: nothing was run: 2 of the 4 sweep file(s) cannot be read (above)"))
        << refused.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));

    pid_t pid = s.start({"run", fast, slow, last}, s.path("run1.txt"));
    ASSERT_TRUE(eventually(
        [&] {
            return std::filesystem::exists(s.db()) &&
                   s.count("SELECT COUNT(*) FROM runs r JOIN sweeps w ON w.id = r.sweep_id WHERE w.name = 'slow' "
                           "AND r.status = 'done'") >= 2;
        },
        60));
    kill(pid, SIGINT);
    EXPECT_EQ(Scratch::wait_code(pid), 130);
    std::string out = slurp(s.path("run1.txt"));
    EXPECT_TRUE(has(out, "sweep fast: 2 done, 0 failed")) << out;
    EXPECT_TRUE(has(out, "not started: " + last + "\n")) << out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM sweeps WHERE name = 'last'"), 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'"), 0);

    auto again = s.run({"run", fast, slow, last});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "2 trials, 2 already done, 0 to run")) << again.out;
    EXPECT_TRUE(has(again.out, "sweep last: 3 done")) << again.out;
    EXPECT_TRUE(has(again.out, "\n3 sweep(s) in ")) << again.out;
    EXPECT_TRUE(has(again.out, "claims: iclr verify " + fast + " " + slow + " " + last + "\n")) << again.out;
    auto unclaimed = s.run({"run", fast, slow}); // no [[claim]] in either: no verify line
    EXPECT_EQ(unclaimed.code, 0) << unclaimed.out;
    EXPECT_FALSE(has(unclaimed.out, "claims:")) << unclaimed.out;
    // A file named twice (a glob, then the same file) is taken once, by every command.
    auto twice = s.run({"run", last, s.path("./last.toml")});
    EXPECT_EQ(twice.code, 0) << twice.out;
    EXPECT_TRUE(has(twice.out, "iclr: note: " + s.path("./last.toml") + " is named more than once; taken once"))
        << twice.out;
    EXPECT_EQ(occurrences(twice.out, "sweep last"), 2u) << twice.out; // its first line and its last, once
    auto verified = s.run({"verify", last, last});
    EXPECT_EQ(occurrences(verified.out, "\nsome value  at_least"), 1u) << verified.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 2 + 12 + 3);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 2 + 12 + 3); // none counted twice
}

// A stop between two sweeps, once the first has recorded and ended, ends the command cleanly: the
// first's runs stand, and the next sweep is named as not started, having recorded nothing (the stop
// came before it recorded), or recorded with its trial pending and stopped, or its trial was
// interrupted (the stop came while it ran), as a stop during a sweep leaves it; the sweep after is
// named as not started. It did not: the next sweep was read again, and a stop while it read its
// plugins ended iclr at once ("nothing was recorded", no list of what did not start, the first
// sweep's closing line lost in stdout's buffer). Since b is no longer read again, b follows a within
// milliseconds: b's trial sleeps (cancellably) so that a's one done run is there to be seen before
// b's ends; a 0-ms trial of b ended too between two looks at the database now and then (the test
// waited for exactly one done run for a minute, in 1 of about 8 runs beside a build).
TEST(Faults, AStopBetweenSweepsEndsCleanlyAndNamesWhatDidNotStart) {
    Scratch s;
    auto alone = [&](const std::string& name, int sleep_ms) { // a failure budget: each sweep runs alone
        return s.write(name + ".toml", "[sweep]\nname = \"" + name +
                                           "\"\nmax_failures = 1\n[method]\nplugin = "
                                           "\"noop\"\nsleep_ms = " +
                                           std::to_string(sleep_ms) + "\n");
    };
    std::string a = alone("a", 1500), b = alone("b", 60000), c = alone("c", 0);
    pid_t pid = s.start({"run", a, b, c}, s.path("out.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'") == 1; }, 60));
    kill(pid, SIGINT);
    EXPECT_EQ(Scratch::wait_code(pid), 130);
    std::string out = slurp(s.path("out.txt"));
    EXPECT_TRUE(has(out, "sweep a: 1 done, 0 failed")) << out;
    EXPECT_TRUE(has(out, "stopped by SIGINT")) << out;
    EXPECT_FALSE(has(out, "nothing was recorded")) << "a's run was: " << out;
    const std::string b_run = s.sql("SELECT IFNULL(group_concat(r.status), 'none') FROM runs r JOIN sweeps w ON "
                                    "w.id = r.sweep_id WHERE w.name = 'b'");
    if (s.sql("SELECT group_concat(name) FROM sweeps") == "a") {
        EXPECT_TRUE(
            has(out, "stopped by SIGINT before the sweeps below recorded anything\nnot started: " + b + " " + c + "\n"))
            << out;
    } else if (b_run == "pending") {
        EXPECT_TRUE(has(out, "sweep b: 0 done, 0 failed, 0 interrupted, 1 not started")) << out;
        EXPECT_TRUE(has(out, "not started: " + c + "\n")) << out;
    } else {
        EXPECT_EQ(b_run, "interrupted") << out;
        EXPECT_TRUE(has(out, "sweep b: 0 done, 0 failed, 1 interrupted")) << out;
        EXPECT_TRUE(has(out, "not started: " + c + "\n")) << out;
    }
    EXPECT_EQ(s.sql("SELECT group_concat(name) FROM sweeps WHERE name = 'c'"), "NULL"); // c recorded nothing
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status NOT IN ('done', 'pending', 'interrupted')"), 0);
}

TEST(Faults, TwelveKillMinus9sLeaveNoOrphansLoseNothingAndDuplicateNothing) {
    Scratch s;
    std::string file = s.write("slow.toml", slow_sweep(2, 150, 40));
    std::mt19937 rng(12);
    int kills = 0;
    for (int round = 0; round < 12; ++round) {
        int64_t before = s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'");
        if (before == 40) break;
        pid_t pid = s.start({"run", file}, s.path("kill.txt"));
        // Kill at a different point each time: while the host starts (every 4th round), or once
        // 0-2 more trials have finished and another is running.
        if (round % 4 == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
        } else {
            int64_t target = before + int64_t(rng() % 3);
            ASSERT_TRUE(eventually(
                [&] {
                    return s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'") >= target &&
                           s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'") >= 1;
                },
                60));
        }
        std::vector<pid_t> workers;
        for (int k = 0; k < 2; ++k) {
            std::string w =
                s.sql("SELECT worker_pid FROM runs WHERE status = 'running' LIMIT 1 OFFSET " + std::to_string(k));
            if (w.find('<') == std::string::npos && w != "NULL") workers.push_back(pid_t(std::atoi(w.c_str())));
        }
        kill(pid, SIGKILL);
        Scratch::wait_code(pid);
        ++kills;
        for (pid_t w : workers)
            EXPECT_TRUE(eventually([&] { return !process_alive(w); }, 5)) << "orphan worker " << w;
        EXPECT_GE(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), before) << "a finished run was lost";
        if (std::filesystem::exists(s.db())) { // a kill during start-up may come before the file exists
            EXPECT_EQ(s.sql("PRAGMA integrity_check"), "ok");
        }
        // Every finished run has exactly its 10 metric rows: no duplicates from earlier attempts.
        EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs r WHERE r.status = 'done' AND (SELECT COUNT(*) FROM metrics WHERE "
                          "run_id = r.id) <> 10"),
                  0);
        std::printf("kill %d: %lld runs done before, %lld after\n", kills, (long long)before,
                    (long long)s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"));
    }
    EXPECT_EQ(kills, 12);
    RecordProperty("kills", kills);
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 40);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 40);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 40 * 10);
    EXPECT_EQ(s.sql("PRAGMA integrity_check"), "ok");
}

TEST(Faults, SigtermStopsCleanlyWithExitCode143) {
    Scratch s;
    std::string file = s.write("slow.toml", kSlowSweep);
    pid_t pid = s.start({"run", file}, s.path("term.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'") >= 1; }, 60));
    kill(pid, SIGTERM);
    EXPECT_EQ(Scratch::wait_code(pid), 143);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'"), 0);
    EXPECT_GE(s.count("SELECT COUNT(*) FROM runs WHERE status = 'interrupted'"), 1);
    EXPECT_TRUE(has(s.sql("SELECT error FROM runs WHERE status = 'interrupted' LIMIT 1"), "cancel"));
    EXPECT_TRUE(has(slurp(s.path("term.txt")), "stopped by SIGTERM; run the same command again"))
        << slurp(s.path("term.txt"));
    EXPECT_EQ(s.run({"run", file}).code, 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 12);
}

// A worker that got SIGTERM from someone else (a user's kill, a scheduler's) cancels its trial and
// exits: that trial is interrupted, the next ones run on a new worker, none is recorded failed.
TEST(Faults, AWorkerSignalledFromOutsideInterruptsOnlyItsTrial) {
    Scratch s;
    std::string file = s.write("slow.toml", slow_sweep(1, 1500, 3));
    pid_t pid = s.start({"run", file}, s.path("out.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'") == 1; }, 60));
    ASSERT_EQ(kill(pid_t(s.count("SELECT worker_pid FROM runs WHERE status = 'running'")), SIGTERM), 0);
    Scratch::wait_code(pid);
    std::string out = slurp(s.path("out.txt"));
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'interrupted'"), 1) << out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 2) << out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 0) << out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT worker_pid) FROM runs"), 2) << out; // the signalled one, a new one
}

TEST(Faults, TrialOverItsMemoryLimitFailsWithAClearMessage) {
    Scratch s;
    std::string file = s.write("oom.toml", R"(
[sweep]
name = "oom"
jobs = 1
memory_mb = 3072
[method]
plugin = "fault"
mode = { grid = ["oom", "ok"] }
)");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'oom'"),
              "failed");
    EXPECT_EQ(s.sql("SELECT error FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'oom'"),
              "out of memory: an allocation failed under the sweep's memory_mb = 3072 limit");
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE json_extract(config_json, '$.method.params.mode') = 'ok'"), "done");
}

TEST(Faults, DiskFullIsAClearErrorTheDatabaseSurvivesAndTheSweepResumes) {
    if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    Scratch s;
    std::string mnt = s.path("small");
    std::filesystem::create_directories(mnt);
    if (std::system(("mount -t tmpfs -o size=1M tmpfs " + mnt + " 2>/dev/null").c_str()) != 0)
        GTEST_SKIP() << "this sandbox does not allow mounting a tmpfs";
    std::string db = mnt + "/iclr.db";
    std::string file = s.write("fill.toml", R"(
[sweep]
name = "fill"
jobs = 2
[method]
plugin = "noop"
values = 20000
tag = { range = [0, 12] }
)");
    auto r = s.run({"run", file, "--db", db});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(has(r.out, "iclr: error: " + db + ": database or disk is full; finished trials are kept")) << r.out;
    auto integrity = [&] { return Scratch::sql_in(db, "PRAGMA integrity_check"); };
    EXPECT_EQ(integrity(), "ok");
    ASSERT_EQ(std::system(("mount -o remount,size=64M " + mnt).c_str()), 0);
    auto again = s.run({"run", file, "--db", db});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "12 done, 0 failed")) << again.out;
    EXPECT_EQ(integrity(), "ok");
    std::system(("umount " + mnt).c_str());
}

TEST(Faults, ASecondRunOnTheSameDatabaseIsRefusedNamingTheHolder) {
    Scratch s;
    std::string file = s.write("slow.toml", kSlowSweep);
    pid_t pid = s.start({"run", file}, s.path("first.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'") >= 1; }, 60));
    auto second = s.run({"run", s.write("other.toml", "[sweep]\nname = \"other\"\n[method]\nplugin = \"noop\"\n")});
    EXPECT_EQ(second.code, 2) << second.out;
    EXPECT_TRUE(has(second.out, "is in use by another iclr run (pid " + std::to_string(pid) + ", sweep slow)"))
        << second.out;
    EXPECT_EQ(Scratch::wait_code(pid), 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM sweeps WHERE name = 'other'"), 0);
}
