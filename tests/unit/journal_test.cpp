// Journals and `iclr sync`'s ingestion: framing that catches torn writes, events that round-trip
// bit-exact, and ingestion that counts every trial once however often it runs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "journal/events.hpp"
#include "journal/journal_file.hpp"
#include "slurm/batch_script.hpp"
#include "slurm/ingest.hpp"
#include "slurm/run_folder.hpp"
#include "store/sqlite_util.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

using namespace iclr;
namespace fs = std::filesystem;

TEST(Journal, Crc32IsZlibs) {
    EXPECT_EQ(journal::crc32("123456789"), 0xCBF43926u); // the standard check value
    EXPECT_EQ(journal::crc32(""), 0u);
}

TEST(Journal, EveryCutThroughTheLastRecordKeepsTheRecordsBeforeIt) {
    test::TempDir dir;
    std::string path = dir.file("a.jnl");
    {
        journal::Writer w(path);
        w.append("first");
        w.append(std::string(300, 'x'));
        w.append("third record");
        w.sync();
    }
    std::string whole = test::read_file(path);
    auto all = journal::read_file(path);
    ASSERT_EQ(all.records.size(), 3u);
    EXPECT_TRUE(all.problem.empty());
    EXPECT_EQ(all.records[1], std::string(300, 'x'));
    uint64_t third = all.offsets[2];
    for (uint64_t cut = third + 1; cut < whole.size(); ++cut) {
        test::write_file(path, whole.substr(0, cut));
        auto r = journal::read_file(path);
        ASSERT_EQ(r.records.size(), 2u) << "cut at " << cut;
        EXPECT_EQ(r.good_bytes, third);
        EXPECT_NE(r.problem.find("byte " + std::to_string(third)), std::string::npos) << r.problem;
    }
    std::string flipped = whole;
    flipped[whole.size() - 3] ^= 0x20; // a bit flipped inside the last payload
    test::write_file(path, flipped);
    auto r = journal::read_file(path);
    EXPECT_EQ(r.records.size(), 2u);
    EXPECT_NE(r.problem.find("checksum"), std::string::npos);
}

TEST(Journal, EventsRoundTripBitExact) {
    RunEnd end{7, RunStatus::Diverged, "loss\tnot\nfinite", "tail:\x01", 0, 11, 2.5, 40, "2026-11-30T00:00:00Z"};
    std::vector<journal::Event> events{
        journal::TaskOpened{"12_3", 1, 999, "node1", "2026-11-30T00:00:00Z"},
        journal::Started{
            RunStart{7, 42, 2, "cpu", "node1", "1.13.0", "2026-11-30T00:00:01Z", "OpenBLAS 0.3.21 Haswell, ATen AVX2"},
            "abc123"},
        journal::Metric{7, "acc", 3, 1, std::nan("")},
        journal::Metric{7, "loss", 4, std::nullopt, -INFINITY},
        journal::Metric{7, "x", 5, 0, 0.1},
        journal::Attribute{7, "cache_key", "12:34"},
        journal::Artifact{7, "model", "/tmp/a b.pt", 1234},
        end};
    for (const auto& e : events) {
        auto back = journal::decode(journal::encode(e));
        ASSERT_TRUE(back);
        EXPECT_EQ(journal::encode(*back), journal::encode(e)); // doubles compared by their bits
        EXPECT_EQ(back->index(), e.index());
    }
    auto m = std::get<journal::Metric>(*journal::decode(journal::encode(events[4])));
    EXPECT_EQ(m.value, 0.1);
    auto e = std::get<journal::Ended>(*journal::decode(journal::encode(end)));
    EXPECT_EQ(e.error, "loss\tnot\nfinite");
    EXPECT_EQ(e.signal, 11);
    EXPECT_EQ(e.diverged_step, 40);
    auto s = std::get<journal::Started>(*journal::decode(journal::encode(events[1])));
    EXPECT_EQ(s.start.kernels, "OpenBLAS 0.3.21 Haswell, ATen AVX2");
    EXPECT_EQ(s.start.at, "2026-11-30T00:00:01Z");
    EXPECT_FALSE(journal::decode("Z1:x"));    // a kind this iclr does not know
    EXPECT_FALSE(journal::decode("M5:ab"));   // a field longer than the payload
    EXPECT_FALSE(journal::decode("A1:x1:y")); // too few fields
}

// An array task of an iclr from before runs.kernels wrote start records of 8 fields: `iclr sync` by
// a newer iclr still reads them, with the kernels unknown.
TEST(Journal, AStartRecordWithoutKernelsIsRead) {
    std::string now = journal::encode(journal::Started{RunStart{7, 42, 2, "cpu", "node1", "1.13.0", "t0", ""}, "k"});
    ASSERT_EQ(now.substr(now.size() - 2), "0:"); // the empty kernels field, last
    auto before = journal::decode(now.substr(0, now.size() - 2));
    ASSERT_TRUE(before);
    auto s = std::get<journal::Started>(*before);
    EXPECT_EQ(s.start.run, 7);
    EXPECT_EQ(s.start.at, "t0");
    EXPECT_EQ(s.start.kernels, "");
    EXPECT_FALSE(journal::decode(now + "1:x")); // 10 fields: not a start record
}

namespace {

// A database with three pending runs and a run folder whose plan names them.
struct Cluster {
    test::TempDir dir;
    std::unique_ptr<Store> store = Store::open_write(dir.file("r.db"));
    RunFolder folder{dir.path() / "slurm" / "s-1"};
    std::vector<int64_t> runs;

    Cluster() {
        store->begin();
        int64_t sweep = store->add_sweep({"s", "s.toml", "", "src", "sha", "", "host", -1});
        FrozenPlan plan;
        plan.sweep_name = "s";
        plan.sweep_id = sweep;
        plan.db_path = dir.file("r.db");
        plan.created_at = now_iso();
        for (int k = 0; k < 3; ++k) {
            RunRow r;
            r.key = "key-" + std::to_string(k);
            r.sweep_id = sweep;
            r.trial_index = uint64_t(k);
            r.config_toml = "k = " + std::to_string(k);
            r.config_json = r.plugins_json = "{}";
            runs.push_back(store->prepare_run(r, std::nullopt));
            plan.trials.push_back({runs.back(), r.key, "k=" + std::to_string(k), "payload"});
        }
        store->commit();
        folder.write_plan(plan);
    }
    journal::Writer journal(const std::string& job, int64_t restart) {
        journal::Writer w(folder.journal_file(job, restart).string());
        w.append(journal::encode(journal::TaskOpened{job, restart, 1, "node", now_iso()}));
        return w;
    }
    void start(journal::Writer& w, int k) {
        w.append(journal::encode(
            journal::Started{RunStart{runs[k], 1, 1, "cpu", "node", "1.13", now_iso()}, "key-" + std::to_string(k)}));
    }
    void metric(journal::Writer& w, int k, int64_t step, double v) {
        w.append(journal::encode(journal::Metric{runs[k], "acc", step, std::nullopt, v}));
    }
    void end(journal::Writer& w, int k, RunStatus s) {
        RunEnd e;
        e.run = runs[k];
        e.status = s;
        e.at = now_iso();
        w.append(journal::encode(journal::Event(e)));
    }
    int64_t count(const std::string& sql) {
        Statement st(store->db(), sql);
        st.step();
        return st.col_int(0);
    }
    std::string status(int k) {
        Statement st(store->db(), "SELECT status FROM runs WHERE id = " + std::to_string(runs[k]));
        st.step();
        return st.col_text(0);
    }
};

} // namespace

TEST(Sync, ARequeuedTrialCountsOnceAndASecondSyncChangesNothing) {
    Cluster c;
    {
        auto a = c.journal("5_0", 0); // the first attempt: run 0 done, run 1 killed mid-way
        c.start(a, 0);
        c.metric(a, 0, 0, 0.5);
        c.metric(a, 0, 1, 0.9);
        c.end(a, 0, RunStatus::Done);
        c.start(a, 1);
        c.metric(a, 1, 0, 0.1);
        a.sync();
        auto b = c.journal("5_0", 1); // the requeued attempt: run 1 again, run 2 fails
        c.start(b, 1);
        c.metric(b, 1, 0, 0.2);
        c.metric(b, 1, 1, 0.8);
        c.end(b, 1, RunStatus::Done);
        c.start(b, 2);
        c.end(b, 2, RunStatus::Failed);
        b.sync();
    }
    auto r = slurm::sync_folder(*c.store, c.folder, std::set<std::string>{});
    EXPECT_EQ(r.ingested, 3);
    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(c.status(0), "done");
    EXPECT_EQ(c.status(1), "done");
    EXPECT_EQ(c.status(2), "failed");
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics"), 4); // run 1: the finished attempt's 2 rows only
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics WHERE run_id = " + std::to_string(c.runs[1]) + " AND value = 0.1"),
              0);
    EXPECT_EQ(c.count("SELECT attempts FROM runs WHERE id = " + std::to_string(c.runs[1])), 2);
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM final_metrics"), 2);

    auto again = slurm::sync_folder(*c.store, c.folder, std::set<std::string>{});
    EXPECT_EQ(again.ingested, 0);
    EXPECT_EQ(again.unchanged, 3);
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics"), 4);
}

// --wait's passes: only the array tasks whose journals or queue state changed are read again, and
// the counts still cover every run; a running trial's new rows arrive, a task leaving the queue with
// a trial unfinished turns it interrupted.
TEST(Sync, FollowingReadsOnlyTheTasksThatChanged) {
    Cluster c;
    auto a = c.journal("7_0", 0);
    c.start(a, 0);
    c.end(a, 0, RunStatus::Done);
    a.sync();
    auto b = c.journal("7_1", 0);
    c.start(b, 1);
    c.metric(b, 1, 0, 0.5);
    b.sync();
    slurm::FollowState seen;
    std::set<std::string> queued{"7_1"};
    auto first = slurm::sync_folder(*c.store, c.folder, queued, nullptr, &seen);
    EXPECT_EQ(first.ingested, 2);
    EXPECT_EQ(first.status[RunStatus::Done], 1);
    EXPECT_EQ(first.status[RunStatus::Running], 1);
    auto idle = slurm::sync_folder(*c.store, c.folder, queued, nullptr, &seen);
    EXPECT_EQ(idle.ingested + idle.unchanged + idle.kept, 0) << "nothing changed, nothing read";
    EXPECT_EQ(idle.status[RunStatus::Done], 1);
    EXPECT_EQ(idle.status[RunStatus::Running], 1);
    c.metric(b, 1, 1, 0.75); // the running trial logs on
    b.sync();
    auto more = slurm::sync_folder(*c.store, c.folder, queued, nullptr, &seen);
    EXPECT_EQ(more.ingested, 1); // task 7_1 only
    ASSERT_EQ(more.changes.size(), 1u);
    EXPECT_EQ(more.changes[0].run, c.runs[1]);
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics WHERE run_id = " + std::to_string(c.runs[1])), 2);
    auto gone = slurm::sync_folder(*c.store, c.folder, std::set<std::string>{}, nullptr, &seen);
    EXPECT_EQ(gone.ingested, 1);
    EXPECT_EQ(c.status(1), "interrupted");
    EXPECT_EQ(gone.status[RunStatus::Done], 1);
    EXPECT_EQ(gone.status[RunStatus::Interrupted], 1);
}

TEST(Sync, ATornJournalIsIngestedUpToItsLastGoodRecord) {
    Cluster c;
    {
        auto a = c.journal("6_0", 0);
        c.start(a, 0);
        c.metric(a, 0, 0, 0.5);
        c.end(a, 0, RunStatus::Done);
        c.start(a, 1);
        c.metric(a, 1, 0, 0.25);
        c.metric(a, 1, 1, 0.75);
        a.sync();
    }
    std::string path = c.folder.journal_file("6_0", 0).string();
    fs::resize_file(path, fs::file_size(path) - 5); // the kill tore the last metric
    auto r = slurm::sync_folder(*c.store, c.folder, std::set<std::string>{});
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("cut short"), std::string::npos) << r.problems[0];
    EXPECT_EQ(c.status(0), "done");
    EXPECT_EQ(c.status(1), "interrupted"); // its task is gone and it never ended
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics WHERE run_id = " + std::to_string(c.runs[1])), 1);
    EXPECT_EQ(c.status(2), "pending"); // never started: left for the next submission
}

TEST(Sync, AnUnfinishedTrialRunsWhileItsTaskIsQueuedAndIsInterruptedAfter) {
    Cluster c;
    {
        auto a = c.journal("7_2", 0);
        c.start(a, 0);
        c.metric(a, 0, 0, 0.5);
        a.sync();
    }
    auto r = slurm::sync_folder(*c.store, c.folder, std::set<std::string>{"7_2"});
    EXPECT_EQ(c.status(0), "running");
    EXPECT_EQ(r.status[RunStatus::Running], 1);
    {
        journal::Writer a(c.folder.journal_file("7_2", 0).string()); // the same attempt goes on
        c.metric(a, 0, 1, 0.6);
        a.sync();
    }
    slurm::sync_folder(*c.store, c.folder, std::set<std::string>{"7_2"});
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics"), 2); // re-read whole, not appended twice
    slurm::sync_folder(*c.store, c.folder, std::set<std::string>{});
    EXPECT_EQ(c.status(0), "interrupted");
    Statement st(c.store->db(), "SELECT error FROM runs WHERE id = " + std::to_string(c.runs[0]));
    st.step();
    EXPECT_NE(st.col_text(0).find("7_2"), std::string::npos);
}

TEST(Sync, AFinishedRunIsNeverReplacedAndForeignRecordsAreRefused) {
    Cluster c;
    {
        auto a = c.journal("8_0", 0);
        c.start(a, 0);
        c.metric(a, 0, 0, 0.5);
        c.end(a, 0, RunStatus::Done);
        a.sync();
    }
    slurm::sync_folder(*c.store, c.folder, std::set<std::string>{});
    {
        auto b = c.journal("9_0", 0); // a later submission ran it again (it should not have)
        c.start(b, 0);
        c.metric(b, 0, 0, 0.7);
        c.end(b, 0, RunStatus::Done);
        // a record naming run 1 with another trial's key: not this plan's
        b.append(journal::encode(journal::Started{RunStart{c.runs[1], 1, 1, "cpu", "n", "1", now_iso()}, "key-x"}));
        b.sync();
    }
    auto r = slurm::sync_folder(*c.store, c.folder, std::set<std::string>{});
    EXPECT_EQ(r.ingested, 0);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("not in this folder's plan"), std::string::npos) << r.problems[0];
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics WHERE value = 0.5"), 1); // the first finished attempt
    EXPECT_EQ(c.count("SELECT COUNT(*) FROM metrics"), 1);
    EXPECT_EQ(c.status(1), "pending");
}

TEST(RunFolder, ThePlanRoundTripsAndSlicesCoverEveryTrialOnce) {
    test::TempDir dir;
    RunFolder f(dir.path() / "s-3");
    FrozenPlan p;
    p.sweep_name = "s";
    p.sweep_id = 3;
    p.db_path = "/x/r.db";
    p.created_at = "2026-11-30T00:00:00Z";
    p.trials_per_task = 3;
    p.timeout_s = 1.5;
    p.plugins = {{"/p/a b.so", "00ff"}};
    for (int k = 0; k < 7; ++k) // labels and payloads with what a line of trials.txt must escape
        p.trials.push_back({10 + k, "key" + std::to_string(k), "label \"" + std::to_string(k) + "\"\t\\n\r",
                            "run_id = " + std::to_string(k) + "\nname = \"x\\ty\"\t\\\n[[part]]\n",
                            std::log(3.0f + float(k))});
    f.write_plan(p);
    FrozenPlan q = f.read_plan();
    EXPECT_EQ(q.task_count(), 3);
    ASSERT_EQ(q.trials.size(), 7u);
    EXPECT_EQ(q.trials[6].payload, "") << "the whole plan is read without payloads";
    EXPECT_EQ(q.trials[2].label, "label \"2\"\t\\n\r");
    // An array task reads its own trials, payloads included, from their place in trials.txt.
    for (int64_t task = 0; task < 3; ++task) {
        FrozenTask mine = f.read_task(task);
        EXPECT_EQ(std::make_pair(mine.first, mine.end), q.slice(task));
        ASSERT_EQ(mine.plan.trials.size(), mine.end - mine.first);
        for (size_t k = 0; k < mine.plan.trials.size(); ++k) {
            EXPECT_EQ(mine.plan.trials[k].payload, p.trials[mine.first + k].payload);
            EXPECT_EQ(mine.plan.trials[k].run_id, p.trials[mine.first + k].run_id);
            EXPECT_EQ(mine.plan.trials[k].cost, p.trials[mine.first + k].cost);
        }
        EXPECT_DOUBLE_EQ(mine.plan.timeout_s, 1.5);
    }
    EXPECT_TRUE(f.read_task(3).plan.trials.empty()); // past the end: nothing to run
    EXPECT_EQ(q.trials[4].cost, std::log(7.0f));     // exact: a float survives the double written
    EXPECT_EQ(q.plugins[0].file, "/p/a b.so");
    EXPECT_DOUBLE_EQ(q.timeout_s, 1.5);
    std::vector<int> seen(7, 0);
    for (int64_t t = 0; t < q.task_count(); ++t) {
        auto [first, end] = q.slice(t);
        for (size_t k = first; k < end; ++k)
            ++seen[k];
    }
    EXPECT_EQ(seen, std::vector<int>(7, 1));
    EXPECT_EQ(q.slice(2), std::make_pair(size_t(6), size_t(7)));
    f.add_submission({"41", 0, 2});
    f.add_submission({"42", 2, 1});
    auto subs = f.submissions();
    ASSERT_EQ(subs.size(), 2u);
    EXPECT_EQ(subs[1].job_id, "42");
    EXPECT_EQ(subs[1].first_task, 2);
}

// Run folders submitted before 2026-12-05 hold every trial in plan.toml (format 1), some from before
// costs were kept: sync, status and a requeued array task still read them.
TEST(RunFolder, AFormatOnePlanIsStillReadWithOrWithoutCosts) {
    test::TempDir dir;
    RunFolder f(dir.path() / "s-1");
    std::filesystem::create_directories(f.root());
    test::write_file(
        f.plan_file().string(),
        "format = 1\nsweep = \"s\"\nsweep_id = 1\ndb = \"/x/r.db\"\ncreated_at = \"2026-12-01T00:00:00Z\"\n"
        "trials_per_task = 1\njobs_per_task = 1\nthreads = 1\ntimeout_s = 0.0\nmemory_mb = 0\n\n"
        "[[trial]]\nrun_id = 5\nkey = \"k5\"\nlabel = \"a\"\npayload = \"p5\"\n\n"
        "[[trial]]\nrun_id = 6\nkey = \"k6\"\nlabel = \"b\"\ncost = 2.5\npayload = \"p6\"\n");
    FrozenPlan q = f.read_plan();
    ASSERT_EQ(q.trials.size(), 2u);
    EXPECT_EQ(q.trials[0].cost, 0.0f); // every trial one cost: the ETA is the plain one
    EXPECT_EQ(q.trials[1].cost, 2.5f);
    FrozenTask second = f.read_task(1);
    ASSERT_EQ(second.plan.trials.size(), 1u);
    EXPECT_EQ(second.plan.trials[0].payload, "p6");
    EXPECT_EQ(second.first, 1u);
}

// A trials.txt cut short (a copy interrupted) is an error naming it, not a task running half a trial.
TEST(RunFolder, ACutShortTrialsFileIsRefusedByTheTaskThatNeedsIt) {
    test::TempDir dir;
    RunFolder f(dir.path() / "s-2");
    FrozenPlan p;
    p.sweep_name = "s";
    for (int k = 0; k < 3; ++k)
        p.trials.push_back({k + 1, "key", "label", "payload " + std::to_string(k), 1.0f});
    f.write_plan(p);
    std::filesystem::resize_file(f.trials_file(), std::filesystem::file_size(f.trials_file()) - 10);
    EXPECT_EQ(f.read_task(0).plan.trials[0].payload, "payload 0");
    try {
        f.read_task(2);
        ADD_FAILURE() << "read a cut-short trial";
    } catch (const UserError& e) {
        EXPECT_NE(std::string(e.what()).find("trials.txt: shorter than the plan says"), std::string::npos) << e.what();
    }
    EXPECT_THROW(f.read_plan(), UserError);
}

TEST(RunFolder, TheBatchScriptAsksForTheWarningSignalAndExecsIclr) {
    RunFolder f("/shared/it's here/s-3");
    SlurmSettings s;
    s.partition = "gpu";
    s.time = "1:00:00";
    s.gres = "gpu:1";
    s.cpus_per_task = 4;
    std::string t = slurm::batch_script(f, "s", "/opt/iclr/bin/iclr", s);
    for (const char* line : {"#SBATCH --signal=B:USR1@120\n", "#SBATCH --requeue\n", "#SBATCH --cpus-per-task=4\n",
                             "#SBATCH --partition=gpu\n", "#SBATCH --time=1:00:00\n", "#SBATCH --gres=gpu:1\n"})
        EXPECT_NE(t.find(line), std::string::npos) << line << "\n" << t;
    EXPECT_EQ(t.find("--output"), std::string::npos) << "on sbatch's command line: no quoting of folders";
    // exec: the time-limit warning goes to the batch shell, which must be iclr itself
    EXPECT_NE(t.find("exec '/opt/iclr/bin/iclr' __slurm-task '/shared/it'\\''s here/s-3' \"$1\"\n"), std::string::npos)
        << t;
}
