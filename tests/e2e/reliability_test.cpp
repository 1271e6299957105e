// End-to-end reliability under misbehaving plugins and shared databases (issue 11): one test per
// bug found by adversarial testing, each with the `fault` fixture's modes or a database abused.
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>

#include <fstream>
#include <set>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

std::string fault_sweep(const std::string& modes, const std::string& extra = "") {
    return "[sweep]\nname = \"faulty\"\njobs = 1\ntimeout = \"20s\"\n" + extra +
           "[method]\nplugin = \"fault\"\nmode = { grid = [" + modes + "] }\n";
}

// A sweep of n `noop` trials of sleep_ms each.
std::string slow_sweep(const Scratch& s, int jobs, int sleep_ms, int n) {
    return s.write("slow.toml", "[sweep]\nname = \"slow\"\njobs = " + std::to_string(jobs) +
                                    "\n[method]\nplugin = \"noop\"\nsleep_ms = " + std::to_string(sleep_ms) +
                                    "\ntag = { range = [0, " + std::to_string(n) + "] }\n");
}

// Starts `iclr run` of that sweep (output to out_file) and waits until a trial is running.
pid_t start_slow_run(const Scratch& s, int jobs, int sleep_ms, int n, const std::string& out_file) {
    pid_t pid = s.start({"run", slow_sweep(s, jobs, sleep_ms, n)}, s.path(out_file));
    EXPECT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'") >= 1; }, 60));
    return pid;
}

// Runs argv as another user (nobody), output to out_file; returns the exit code.
int run_as_nobody(const Scratch& s, const std::vector<std::string>& args, const std::string& out_file) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        dup2(fd, 1);
        dup2(fd, 2);
        if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(125);
        if (chdir("/") != 0) _exit(126);
        setenv("ICLR_CACHE_DIR", "/nonexistent-cache", 1);
        setenv("ICLR_DB", s.db().c_str(), 1);
        std::vector<char*> argv{const_cast<char*>(ICLR_BIN)};
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(ICLR_BIN, argv.data());
        _exit(127);
    }
    return Scratch::wait_code(pid);
}

} // namespace

// 1. A plugin's background child kept the worker's pipes open: the crash was recorded 40 s later
// as a timeout. Now the worker's exit decides, its group is killed, no orphan survives.
TEST(Reliability, ABackgroundChildNeitherDelaysTheRecordNorOutlivesTheRun) {
    Scratch s;
    auto r = s.run({"run", s.write("bg.toml", fault_sweep("\"background\", \"ok\""))});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(s.sql("SELECT status || ': ' || error FROM runs WHERE id = 1"),
              "failed: worker died: signal 6 (SIGABRT)");
    EXPECT_LT(std::atof(s.sql("SELECT duration_s FROM runs WHERE id = 1").c_str()), 10.0); // not the 20 s timeout
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE id = 2"), "done");
    // The `sleep 30` child died with the worker's group: the orphan check (tests/orphan_check.cpp)
    // fails this test otherwise.
}

// 1b. A grandchild that left the worker's process group (setsid) is still killed at the end.
TEST(Reliability, AProcessThatLeftTheWorkersGroupDoesNotOutliveTheRun) {
    Scratch s;
    auto r = s.run({"run", s.write("detach.toml", fault_sweep("\"detach\""))});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "killed 1 process left behind by plugins")) << r.out;
}

// 2. The run lock was keyed on the path: a symlink or a hard link reached the database unlocked.
TEST(Reliability, TheRunLockHoldsThroughASymlinkAndAHardLink) {
    Scratch s;
    std::string slow = slow_sweep(s, 1, 400, 8);
    ASSERT_EQ(s.run({"run", s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n")}).code, 0);
    std::filesystem::create_symlink(s.db(), s.path("link.db"));
    std::filesystem::create_hard_link(s.db(), s.path("hard.db"));
    pid_t pid = s.start({"run", slow, "--db", s.path("link.db")}, s.path("first.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'") >= 1; }, 60));
    for (const std::string& via : {s.db(), s.path("hard.db"), s.path("link.db")}) {
        auto second = s.run({"run", slow, "--db", via});
        EXPECT_EQ(second.code, 2) << via << ": " << second.out;
        EXPECT_TRUE(has(second.out, "is in use by another iclr run")) << via << ": " << second.out;
    }
    EXPECT_EQ(Scratch::wait_code(pid), 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE attempts > 1"), 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 9);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.sweep_id = 2"), 8 * 10);
}

// A database first made through a dangling symlink (`--db link.db`, link.db -> b/real.db): what
// `iclr run A B` writes before the file exists (its constructor check's data cache) went beside the
// link, everything after beside the target; now all of it goes beside the target.
TEST(Reliability, ADatabaseMadeThroughADanglingSymlinkKeepsItsFilesBesideTheTarget) {
    Scratch s;
    std::filesystem::create_directories(s.path("a"));
    std::filesystem::create_directories(s.path("b"));
    std::filesystem::create_symlink(s.path("b/real.db"), s.path("a/link.db"));
    std::string sweeps = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/";
    auto r = s.run({"run", sweeps + "vit_pooling.toml", sweeps + "cosformer.toml", "--profile", "ci", "--db",
                    s.path("a/link.db")});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(std::filesystem::exists(s.path("b/cache/data"))) << r.out;
    EXPECT_TRUE(std::filesystem::exists(s.path("b/logs/real.db"))) << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.path("a/cache"))) << "the check's data cache went beside the link";
}

// 4. Output without a final newline went to the next trial on the same worker.
TEST(Reliability, OutputWithoutAFinalNewlineStaysWithItsTrial) {
    Scratch s;
    auto r = s.run({"run", s.write("partial.toml", fault_sweep("\"partial\", \"ok\""))});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(s.sql("SELECT log_tail FROM runs WHERE id = 1"), "PARTIAL-LAST-LINE-WITHOUT-NEWLINE"));
    EXPECT_FALSE(has(s.sql("SELECT log_tail FROM runs WHERE id = 2"), "PARTIAL"));
    EXPECT_TRUE(has(slurp(s.path("results/logs/iclr.db/run-1.log")), "PARTIAL-LAST-LINE-WITHOUT-NEWLINE"));
    EXPECT_FALSE(has(slurp(s.path("results/logs/iclr.db/run-2.log")), "PARTIAL"));
}

// 5. Closing the record channel left the trial `running` forever; a forged record marked a
// failing trial `done`.
TEST(Reliability, AClosedRecordChannelFailsTheTrialInsteadOfHangingIt) {
    Scratch s;
    auto r = s.run({"run", s.write("close.toml", fault_sweep("\"close_channel\", \"ok\""))});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE id = 1"), "failed");
    EXPECT_TRUE(
        has(s.sql("SELECT error FROM runs WHERE id = 1"), "record channel was closed while it was still running"));
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE id = 2"), "done"); // on a fresh worker
}

TEST(Reliability, AForgedRecordCannotMarkAFailingTrialDone) {
    Scratch s;
    auto r = s.run({"run", s.write("forge.toml", fault_sweep("\"forge\", \"ok\""))});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE id = 1"), "failed");
    EXPECT_TRUE(has(s.sql("SELECT error FROM runs WHERE id = 1"), "carried a line that is not a record (\"D?1\")"))
        << s.sql("SELECT error FROM runs WHERE id = 1");
    EXPECT_EQ(s.sql("SELECT status FROM runs WHERE id = 2"), "done");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1);
}

// 6. Read-only access for any user who can read the file, creating nothing.
TEST(Reliability, AnotherUserCanQueryAndLeavesNoFileBehind) {
    if (geteuid() != 0) GTEST_SKIP() << "switching to another uid needs root";
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n")}).code, 0);
    std::filesystem::permissions(s.path(""), std::filesystem::perms(0755));
    auto results = s.path("results");
    auto listing = [&] {
        std::set<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(results))
            names.insert(e.path().filename().string());
        return names;
    };
    auto before = listing();
    // The folder is not theirs to write: the query still works.
    std::filesystem::permissions(results, std::filesystem::perms(0755));
    EXPECT_EQ(run_as_nobody(s, {"query", "SELECT COUNT(*) AS n FROM runs", "--format", "csv"}, s.path("q1.txt")), 0)
        << slurp(s.path("q1.txt"));
    EXPECT_EQ(slurp(s.path("q1.txt")), "n\n1\n");
    // A shared folder anyone may write: the query must still create nothing there.
    std::filesystem::permissions(results, std::filesystem::perms(0777));
    EXPECT_EQ(run_as_nobody(s, {"show", "1"}, s.path("q2.txt")), 0) << slurp(s.path("q2.txt"));
    EXPECT_EQ(listing(), before);
    // And the owner's next run is not blocked by anything the reader did.
    auto again = s.run({"run", s.write("two.toml", "[sweep]\nname = \"two\"\n[method]\nplugin = \"noop\"\n")});
    EXPECT_EQ(again.code, 0) << again.out;
}

// 8. `iclr query` buffered the whole result before the first byte. A query of a billion rows
// piped into a reader that takes one line must answer at once and end quietly when it goes.
TEST(Reliability, QueryStreamsRowsAndEndsQuietlyWhenTheReaderGoes) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n")}).code, 0);
    for (const char* format : {"csv", "table", "json", "markdown"}) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            setenv("ICLR_DB", s.db().c_str(), 1);
            execl(
                ICLR_BIN, "iclr", "query",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT i FROM n",
                "--format", format, nullptr);
            _exit(127);
        }
        close(fds[1]);
        std::string first;
        char c;
        pollfd pfd{fds[0], POLLIN, 0};
        while (poll(&pfd, 1, 60000) == 1 && read(fds[0], &c, 1) == 1 && c != '\n') // the first line, within a minute
            first += c;
        close(fds[0]); // the reader goes, as `head -1` does
        bool ended = eventually([&] { return !process_alive(pid); }, 60);
        if (!ended) kill(pid, SIGKILL);
        EXPECT_TRUE(ended) << format << ": still running a minute after its reader left";
        EXPECT_EQ(Scratch::wait_code(pid), 0) << format;
        EXPECT_FALSE(first.empty()) << format;
    }
}

// 9. With --jobs >= 2 the start-up failure named the host's own kill, not the worker's cause.
TEST(Reliability, AStartupFailureWithTwoJobsNamesTheWorkersOwnCause) {
    Scratch s;
    s.set_env("ICLR_WORKER_LIB", ICLR_FAILING_WORKER);
    s.set_env("ICLR_TEST_MARKER", s.path("first-worker"));
    std::string file = s.write(
        "two.toml", "[sweep]\nname = \"two\"\njobs = 2\n[method]\nplugin = \"noop\"\ntag = { range = [0, 4] }\n");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_TRUE(
        has(r.out, "workers die while starting (`iclr __worker`): first worker: injected start-up failure (exit 3)"))
        << r.out;
}

// 10. Refusing a newer database switched it to WAL first; another application's file got tables;
// and a reader migrated a copy of another application's file in memory, failing with exit 1.
TEST(Reliability, ARefusedDatabaseIsLeftByteForByteAsItWas) {
    Scratch s;
    std::string file = s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n");
    std::string newer = s.path("newer.db"), other = s.path("other.db");
    ASSERT_EQ(std::system(("sqlite3 " + newer + " 'PRAGMA user_version = 99; CREATE TABLE runs(x);'").c_str()), 0);
    ASSERT_EQ(std::system(
                  ("sqlite3 " + other + " 'CREATE TABLE photos(id, path); INSERT INTO photos VALUES (1, 2);'").c_str()),
              0);
    for (const auto& [db, why] :
         {std::pair{newer, "newer than this iclr"}, std::pair{other, "without iclr's schema"}}) {
        std::string bytes = slurp(db);
        auto r = s.run({"run", file, "--db", db});
        EXPECT_EQ(r.code, 2) << r.out;
        EXPECT_TRUE(has(r.out, why)) << r.out;
        EXPECT_EQ(slurp(db), bytes) << db << " changed";
        EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
        // The readers refuse it too, with the same reason and exit 2: a reader had migrated a copy
        // of `runs`-holding file into iclr's schema in memory ("table runs already exists", exit 1).
        for (const auto& args : {std::vector<std::string>{"query", "SELECT 1", "--db", db},
                                 std::vector<std::string>{"show", "1", "--db", db},
                                 std::vector<std::string>{"report", file, "--db", db, "--out", s.path("r.html")}}) {
            auto q = s.run(args);
            EXPECT_EQ(q.code, 2) << args[0] << " " << db << ": " << q.out;
            EXPECT_TRUE(has(q.out, why)) << args[0] << ": " << q.out;
        }
        EXPECT_EQ(slurp(db), bytes) << db << " changed";
    }
    // A foreign file with a table iclr also has: the case the readers got wrong.
    std::string clash = s.path("clash.db");
    ASSERT_EQ(std::system(("sqlite3 " + clash + " 'CREATE TABLE runs(x);'").c_str()), 0);
    auto q = s.run({"query", "SELECT 1", "--db", clash});
    EXPECT_EQ(q.code, 2) << q.out;
    EXPECT_TRUE(has(q.out, "clash.db: an SQLite database without iclr's schema (it has 1 schema objects of its own), "
                           "not a results database"))
        << q.out;
}

// 12. x.db and x.sqlite beside it shared logs/x/; `iclr show` pointed into the mixed file.
TEST(Reliability, DatabasesThatShareAStemKeepTheirOwnLogs) {
    Scratch s;
    std::string a = s.write("a.toml", fault_sweep("\"partial\""));
    std::string b = s.write("b.toml", fault_sweep("\"ok\""));
    ASSERT_EQ(s.run({"run", a, "--db", s.path("results/x.db")}).code, 0);
    ASSERT_EQ(s.run({"run", b, "--db", s.path("results/x.sqlite")}).code, 0);
    EXPECT_TRUE(has(slurp(s.path("results/logs/x.db/run-1.log")), "PARTIAL"));
    EXPECT_FALSE(has(slurp(s.path("results/logs/x.sqlite/run-1.log")), "PARTIAL"));
    auto show = s.run({"show", "1", "--db", s.path("results/x.sqlite")});
    EXPECT_TRUE(has(show.out, "full log: " + s.path("results/logs/x.sqlite/run-1.log"))) << show.out;
}

// Weaker ones: SIGHUP, special files, fts3_tokenizer, terminal escapes, Markdown pipes, a
// writer that holds the database's lock for a while.
TEST(Reliability, SighupStopsTheSweepLikeSigterm) {
    Scratch s;
    pid_t pid = start_slow_run(s, 2, 300, 12, "hup.txt");
    kill(pid, SIGHUP);
    EXPECT_EQ(Scratch::wait_code(pid), 129);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'running'"), 0);
    EXPECT_TRUE(has(slurp(s.path("hup.txt")), "stopped by SIGHUP; run the same command again"))
        << slurp(s.path("hup.txt"));
}

TEST(Reliability, SpecialFilesAreRefusedWithAClearMessage) {
    Scratch s;
    auto plan = s.run({"plan", "/dev/null"});
    EXPECT_EQ(plan.code, 2) << plan.out;
    EXPECT_TRUE(has(plan.out, "/dev/null: not a regular file")) << plan.out;
    std::string fifo = s.path("fifo.db");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
    std::string one = s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n");
    for (const char* cmd : {"run", "query"}) {
        std::vector<std::string> args = std::string(cmd) == "run"
                                            ? std::vector<std::string>{"run", one, "--db", fifo}
                                            : std::vector<std::string>{"query", "SELECT 1", "--db", fifo};
        auto r = s.run(args);
        EXPECT_EQ(r.code, 2) << cmd << ": " << r.out;
        EXPECT_TRUE(has(r.out, fifo + ": not a regular file")) << cmd << ": " << r.out;
    }
    auto inc = s.run({"plan", s.write("inc.toml", "include = [\"/proc/self/mem\"]\n[method]\nplugin = \"noop\"\n")});
    EXPECT_EQ(inc.code, 2) << inc.out;
    EXPECT_TRUE(has(inc.out, "inc.toml:1:")) << inc.out;
    EXPECT_TRUE(has(inc.out, "/proc/self/mem")) << inc.out;
}

TEST(Reliability, QueryRefusesFts3TokenizerAndShowsNoTerminalEscapes) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("esc.toml", fault_sweep("\"escape\""))}).code, 0);
    auto fts = s.run({"query", "SELECT hex(fts3_tokenizer('simple'))"});
    EXPECT_EQ(fts.code, 2) << fts.out;
    EXPECT_TRUE(has(fts.out, "fts3_tokenizer")) << fts.out;
    for (const char* format : {"table", "markdown"}) {
        auto q = s.run({"query", "SELECT key, 'a|b' AS pipe FROM metrics WHERE key LIKE '%red'", "--format", format});
        EXPECT_EQ(q.code, 0) << q.out;
        EXPECT_FALSE(has(q.out, "\x1b")) << format << ": " << q.out;
        EXPECT_TRUE(has(q.out, "\\x1b[31mred")) << format << ": " << q.out;
        if (std::string(format) == "markdown") {
            EXPECT_TRUE(has(q.out, "| a\\|b |")) << q.out;
        }
    }
    auto show = s.run({"show", "1"});
    EXPECT_EQ(show.code, 0) << show.out;
    EXPECT_FALSE(has(show.out, "\x1b")) << show.out;
    EXPECT_FALSE(has(show.out, "\x07")) << show.out;
    EXPECT_TRUE(has(show.out, "\\x1b[2J")) << show.out;
}

TEST(Reliability, AWriterHoldingTheLockForSecondsDelaysTheSweepWithoutFailingIt) {
    Scratch s;
    pid_t pid = start_slow_run(s, 1, 200, 10, "run.txt");
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'") >= 2; }, 60));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(s.db().c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    std::this_thread::sleep_for(std::chrono::seconds(8)); // longer than SQLite's usual 5 s
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_EQ(Scratch::wait_code(pid), 0) << slurp(s.path("run.txt"));
    EXPECT_TRUE(has(slurp(s.path("run.txt")), "waiting for another process's write lock")) << slurp(s.path("run.txt"));
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 10);
}

// The database rests in rollback-journal mode between runs (so readers need no -shm), but a reader
// that holds it open when a run ends must not keep the host from exiting.
TEST(Reliability, AReaderHoldingTheDatabaseOpenDoesNotKeepTheRunFromEnding) {
    Scratch s;
    pid_t pid = start_slow_run(s, 1, 200, 6, "run.txt");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(s.db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN; SELECT COUNT(*) FROM runs;", nullptr, nullptr, nullptr), SQLITE_OK);
    bool ended = eventually([&] { return !process_alive(pid); }, 60);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_TRUE(ended) << slurp(s.path("run.txt"));
    EXPECT_EQ(Scratch::wait_code(pid), 0) << slurp(s.path("run.txt"));
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 6);
}

// `iclr verify` while a sweep writes to the same database: it reads what is done so far, and says
// how much that is and that a run is still writing (not to start the same run a second time).
TEST(Reliability, VerifyDuringARunSaysHowMuchIsDoneAndWhoIsWriting) {
    Scratch s;
    std::string file = s.write("c.toml", "[sweep]\nname = \"c\"\njobs = 1\n[method]\nplugin = \"noop\"\n"
                                         "sleep_ms = 400\ntag = { range = [0, 8] }\n[[claim]]\nname = \"x\"\n"
                                         "kind = \"at_least\"\nthreshold = 0\nsql = \"SELECT r.id AS run_id, r.seed, "
                                         "1.0 AS value FROM runs r WHERE r.status = 'done'\"\n");
    pid_t pid = s.start({"run", file}, s.path("run.txt"));
    ASSERT_TRUE(eventually([&] { return s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'") >= 2; }, 60));
    auto v = s.run({"verify", file});
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "trial(s) of " + file + " as written are done in " + s.db() +
                               "; the verdicts use those (a run is writing to it now: pid " + std::to_string(pid) +
                               ", sweep c)"))
        << v.out;
    EXPECT_EQ(Scratch::wait_code(pid), 0);
    auto after = s.run({"verify", file});
    EXPECT_FALSE(has(after.out, "trial(s) of")) << after.out; // all 8 done: nothing to say
}
