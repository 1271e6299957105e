// Store: schema creation and versioning, run lifecycle, resume semantics, stale-run recovery.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "store/run_details.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {

// A trial as the store sees it: plain rows (the store knows no sweep types).
RunRow row(int64_t sweep, int64_t k) {
    RunRow r;
    r.key = "key-" + std::to_string(k);
    r.sweep_id = sweep;
    r.trial_index = uint64_t(k);
    r.method = "noop";
    r.config_toml = "seed = 0\n[method]\nplugin = \"noop\"\nparams = { k = " + std::to_string(k) + " }\n";
    r.config_json = "{}";
    r.plugins_json = "{}";
    r.params = {{"method.k", Value::of_int(k)}};
    return r;
}

int64_t count(Store& s, const std::string& sql) {
    Statement st(s.db(), sql);
    st.step();
    return st.col_int(0);
}

// A database as iclr's first schema left it: tests/fixtures/db/schema_v1.sql, written by a real run.
void write_version1_database(const std::string& path) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    exec_sql(db, test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/db/schema_v1.sql"));
    exec_sql(db, "PRAGMA user_version = 1"); // .dump does not carry it
    sqlite3_close(db);
}

} // namespace

TEST(Store, CreatesSchemaInWalMode) {
    test::TempDir dir;
    auto s = Store::open_write(dir.file("sub/r.db"));
    EXPECT_EQ(s->version(), schema_version());
    Statement st(s->db(), "PRAGMA journal_mode");
    st.step();
    EXPECT_EQ(st.col_text(0), "wal");
    for (const char* t :
         {"sweeps", "runs", "params", "metrics", "attributes", "artifacts", "final_metrics", "accuracy_matrix"})
        EXPECT_EQ(count(*s, std::string("SELECT COUNT(*) FROM sqlite_master WHERE name = '") + t + "'"), 1) << t;
}

TEST(Store, RunLifecycleAndTypedParams) {
    test::TempDir dir;
    auto s = Store::open_write(dir.file("r.db"));
    s->begin();
    int64_t sweep = s->add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
    auto t = row(sweep, 2);
    int64_t run = s->prepare_run(t, s->find_run(t.key));
    s->commit();
    EXPECT_EQ(s->find_run(t.key)->status, RunStatus::Pending);
    s->mark_running({run, 42, 1, "cpu", "host", "1.13.0", ""});
    s->begin();
    s->add_metric(run, "acc", 0, 0, 0.5);
    s->add_metric(run, "loss", 3, std::nullopt, 1.25);
    s->set_attribute(run, "cache_key", "abc");
    s->commit();
    s->finish_run({run, RunStatus::Done, "", "", std::nullopt, std::nullopt, 1.5, std::nullopt, ""});
    EXPECT_EQ(s->find_run(t.key)->status, RunStatus::Done);
    EXPECT_EQ(count(*s, "SELECT status = 'done' FROM runs"), 1);
    EXPECT_EQ(count(*s, "SELECT value FROM params WHERE key = 'method.k'"), 2);
    EXPECT_EQ(count(*s, "SELECT typeof(value) = 'integer' FROM params WHERE key = 'method.k'"), 1);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics WHERE task IS NULL"), 1);
    EXPECT_EQ(count(*s, "SELECT attempts FROM runs"), 1);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM final_metrics WHERE run_id = " + std::to_string(run)),
              2); // filled at finish
}

TEST(Store, RerunningAnUnfinishedTrialDropsItsPartialMetrics) {
    test::TempDir dir;
    auto s = Store::open_write(dir.file("r.db"));
    int64_t sweep = s->add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
    auto t = row(sweep, 1);
    int64_t run = s->prepare_run(t, s->find_run(t.key));
    s->mark_running({run, 1, 1, "cpu", "h", "v", ""});
    s->add_metric(run, "acc", 0, 0, 0.1);
    EXPECT_EQ(s->recover_stale_running(), 1); // the host died here
    EXPECT_EQ(s->find_run(t.key)->status, RunStatus::Interrupted);
    int64_t again = s->prepare_run(t, s->find_run(t.key));
    EXPECT_EQ(again, run); // same key, same row: no duplicate run
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 0);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM runs"), 1);
    EXPECT_EQ(s->find_run(t.key)->status, RunStatus::Pending);
}

TEST(Store, NewerSchemaIsRefused) {
    test::TempDir dir;
    {
        auto s = Store::open_write(dir.file("r.db"));
        exec_sql(s->db(), "PRAGMA user_version = 99");
    }
    try {
        Store::open_write(dir.file("r.db"));
        FAIL();
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 99 is newer than this iclr"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(Store::open_read(dir.file("r.db")), UserError);
}

TEST(Store, AnEmptyVersion0FileIsMigratedAndAForeignOneRefused) {
    test::TempDir dir;
    // A version-0 file with nothing in it (what an older iclr left before its first sweep).
    {
        sqlite3* db = nullptr;
        sqlite3_open(dir.file("r.db").c_str(), &db);
        exec_sql(db, "PRAGMA user_version = 0");
        sqlite3_close(db);
    }
    auto s = Store::open_write(dir.file("r.db"));
    EXPECT_EQ(s->version(), schema_version());
    EXPECT_EQ(count(*s, "PRAGMA application_id"), 0x69636c72); // "iclr"
    // A version-0 file with tables of its own belongs to another application: refused, not
    // extended with iclr's tables (tests/e2e/reliability_test.cpp checks it stays byte-identical).
    {
        sqlite3* db = nullptr;
        sqlite3_open(dir.file("notes.db").c_str(), &db);
        exec_sql(db, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES ('keep me');");
        sqlite3_close(db);
    }
    try {
        Store::open_write(dir.file("notes.db"));
        ADD_FAILURE() << "another application's database was opened for writing";
    } catch (const UserError& e) {
        EXPECT_NE(std::string(e.what()).find("without iclr's schema"), std::string::npos) << e.what();
    }
}

TEST(Store, ARealVersion1DatabaseOpensWithEveryRowKept) {
    test::TempDir dir;
    std::string db_path = dir.file("old.db");
    write_version1_database(db_path);
    auto s = Store::open_write(db_path);
    EXPECT_EQ(s->version(), schema_version());
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), 4);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 12);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM params WHERE key = 'method.tag'"), 4);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM final_metrics"), 4); // the v1 view's rows, now a table
    EXPECT_EQ(count(*s, "SELECT value * 10 FROM final_metrics WHERE run_id = 1"), 10); // noop's last value: 2 * 0.5
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM run_summary WHERE arm IS NULL AND status = 'done'"), 4); // version 8
}

TEST(Store, AnOlderDatabaseIsReadThroughACopyMigratedInMemoryAndTheFileIsLeftAsItIs) {
    test::TempDir dir;
    std::string db_path = dir.file("old.db");
    write_version1_database(db_path);
    {
        auto s = Store::open_read(db_path);
        EXPECT_EQ(s->version(), schema_version());
        // columns later schemas added (diverged_step: 3, arm: 4) read as in a new database
        EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM runs WHERE diverged_step IS NULL AND arm IS NULL"), 4);
        EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM final_metrics WHERE nonfinite IS NULL"), 4);
        auto d = load_run_details(*s, "1");
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(d->method, "noop");
        EXPECT_EQ(d->arm, "");
        EXPECT_THROW(exec_sql(s->db(), "DELETE FROM runs"), HostError); // the copy is read-only too
    }
    sqlite3* db = nullptr;
    sqlite3_open(db_path.c_str(), &db);
    {
        Statement v(db, "PRAGMA user_version");
        v.step();
        EXPECT_EQ(v.col_int(0), 1); // the reader changed nothing in the file
    }
    sqlite3_close(db);
}

// `iclr query --attach`: another database joined read-only, through a file's connection and through
// the in-memory copy an older schema is read by (opened to write, which a plain path would inherit).
TEST(Store, AnotherDatabaseIsAttachedReadOnlyAndLeftAsItIs) {
    test::TempDir dir;
    std::string old_db = dir.file("old.db"), new_db = dir.file("new.db");
    write_version1_database(old_db);
    {
        auto w = Store::open_write(new_db);
        w->begin();
        w->add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
        w->commit();
    }
    const std::string before = test::read_file(new_db), old_before = test::read_file(old_db);
    for (const std::string& main : {old_db, new_db}) {
        auto s = Store::open_read(main);
        const std::string other = main == old_db ? new_db : old_db;
        s->attach_read_only("o", other);
        if (other == new_db) { // the file, read-only
            EXPECT_EQ(sqlite3_db_readonly(s->db(), "o"), 1);
        }
        exec_sql(s->db(), "PRAGMA query_only=0"); // the reader's own guard lifted: o still refuses
        EXPECT_THROW(exec_sql(s->db(), "DELETE FROM o.sweeps"), HostError) << main;
        exec_sql(s->db(), "PRAGMA query_only=1");
        EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM o.sweeps"), 1) << main; // one sweep in each
        // today's columns in both, the version-1 file's through its copy migrated in memory
        EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM pragma_table_info('runs', 'o') WHERE name IN ('arm', 'kernels')"), 2)
            << main;
        EXPECT_THROW(exec_sql(s->db(), "DELETE FROM o.sweeps"), HostError) << main;
        EXPECT_THROW(s->attach_read_only("main", other), UserError);
        EXPECT_THROW(s->attach_read_only("TEMP", other), UserError);
        EXPECT_THROW(s->attach_read_only("2x", other), UserError);
        EXPECT_THROW(s->attach_read_only("a\"b", other), UserError);
        EXPECT_THROW(s->attach_read_only("p", dir.file("none.db")), UserError);
    }
    EXPECT_EQ(test::read_file(new_db), before);
    EXPECT_EQ(test::read_file(old_db), old_before);
    EXPECT_FALSE(std::filesystem::exists(new_db + "-wal") && std::filesystem::file_size(new_db + "-wal") > 0);
    auto s = Store::open_read(new_db);
    const std::string text = dir.file("text.db");
    std::ofstream(text) << "not a database";
    EXPECT_THROW(s->attach_read_only("t", text), UserError); // not a results database
}

TEST(Store, EveryStatusWordRoundTrips) {
    for (RunStatus st : {RunStatus::Pending, RunStatus::Running, RunStatus::Done, RunStatus::Failed, RunStatus::Timeout,
                         RunStatus::Interrupted})
        EXPECT_EQ(parse_run_status(to_string(st)), st);
    EXPECT_FALSE(parse_run_status("finished").has_value());
}

namespace {
// A run to hang metric rows on, in a fresh database.
int64_t started_run(Store& s) {
    int64_t sweep = s.add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
    auto t = row(sweep, 1);
    int64_t run = s.prepare_run(t, s.find_run(t.key));
    s.mark_running({run, 1, 1, "cpu", "h", "v", ""});
    return run;
}
} // namespace

// add_metric buffers rows and writes them 64 to a statement: whatever reads the table, deletes a
// run's rows or ends the transaction must see every row added before it, once.
TEST(Store, BufferedMetricRowsAreSeenByEveryReaderAndWrittenOnce) {
    test::TempDir dir;
    auto s = Store::open_write(dir.file("r.db"));
    int64_t run = started_run(*s);
    s->begin();
    for (int64_t step = 0; step < 150; ++step) // two full batches and a tail of 22
        s->add_metric(run, "loss", step, std::nullopt,
                      step == 10    ? std::nan("")
                      : step == 140 ? HUGE_VAL
                      : step == 149 ? -HUGE_VAL
                                    : double(step) / 4);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 150); // db() writes the buffer first
    s->add_metric(run, "acc", 0, 0, 0.5);
    s->commit();
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 151);
    EXPECT_EQ(count(*s, "SELECT COUNT(DISTINCT step) FROM metrics WHERE key = 'loss'"), 150);
    EXPECT_EQ(count(*s, "SELECT SUM(step) FROM metrics WHERE key = 'loss'"), 149 * 150 / 2);
    EXPECT_EQ(count(*s, "SELECT step FROM metrics WHERE nonfinite = 'nan' AND value IS NULL"), 10);
    EXPECT_EQ(count(*s, "SELECT step FROM metrics WHERE nonfinite = 'inf'"), 140);
    EXPECT_EQ(count(*s, "SELECT step FROM metrics WHERE nonfinite = '-inf'"), 149);
    EXPECT_EQ(count(*s, "SELECT value * 4 FROM metrics WHERE step = 63 AND key = 'loss'"), 63); // a batch's last row
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics WHERE task IS NULL"), 150);
    // finish_run reads rows still buffered into final_metrics
    s->begin();
    s->add_metric(run, "acc", 5, 0, 0.75);
    s->finish_run({run, RunStatus::Done, "", "", std::nullopt, std::nullopt, 1.0, std::nullopt, ""});
    s->commit();
    EXPECT_EQ(count(*s, "SELECT step FROM final_metrics WHERE key = 'acc'"), 5);
    // clear_results: rows buffered before the delete do not land after it
    s->begin();
    for (int64_t step = 0; step < 70; ++step)
        s->add_metric(run, "late", step, std::nullopt, 1.0);
    s->clear_results(run);
    s->commit();
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 0);
    // rollback drops buffered rows with the transaction
    s->begin();
    for (int64_t step = 0; step < 70; ++step)
        s->add_metric(run, "undone", step, std::nullopt, 1.0);
    s->rollback();
    EXPECT_FALSE(s->in_transaction());
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 0);
    // rows added outside a transaction are written when the store closes
    s->add_metric(run, "last", 0, std::nullopt, 2.0);
    s.reset();
    auto again = Store::open_write(dir.file("r.db"));
    EXPECT_EQ(count(*again, "SELECT COUNT(*) FROM metrics WHERE key = 'last'"), 1);
}

// A full disk fails a flush part-way. Either the failed statement alone is undone, and then the rows
// written before it leave the buffer and the rest stay; or SQLite rolls the whole transaction back
// (it can for a statement without a statement journal), and then its buffered rows go too. Rows go
// in `per_commit` to a transaction under a page limit `extra_pages` above the start; then space
// returns a page at a time, so a flush may write a batch and fail on the rows after it. Every row
// added since the last commit that stood must end in the table exactly once.
void fill_past_a_page_limit(int per_commit, int extra_pages) {
    test::TempDir dir;
    auto s = Store::open_write(dir.file("r.db"));
    int64_t run = started_run(*s);
    sqlite3* raw = s->db(); // taken while nothing is buffered: db() would try to write the rows first
    int64_t limit = count(*s, "PRAGMA page_count") + extra_pages;
    exec_sql(raw, "PRAGMA max_page_count = " + std::to_string(limit));
    std::string key(300, 'k'); // about a dozen rows a page
    int64_t added = 0, committed = 0, failures = 0;
    auto failed = [&](const HostError& e) {
        EXPECT_NE(std::string(e.what()).find("full"), std::string::npos) << e.what();
        ++failures;
        if (!s->in_transaction()) { // rolled back: the rows since the last commit are gone
            added = committed;
            s->begin();
        }
    };
    s->begin();
    for (int round = 0; round < 400 && failures < 6; ++round) {
        try {
            for (int r = 0; r < per_commit; ++r) {
                ++added;
                s->add_metric(run, key, added, std::nullopt, 1.0);
            }
            s->commit();
            committed = added;
            s->begin();
        } catch (const HostError& e) {
            failed(e);
        }
    }
    ASSERT_GT(failures, 0) << "the page limit was never reached";
    for (bool done = false; !done;) {
        exec_sql(raw, "PRAGMA max_page_count = " + std::to_string(++limit));
        try {
            s->commit();
            done = true;
        } catch (const HostError& e) {
            failed(e);
        }
    }
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), added);
    EXPECT_EQ(count(*s, "SELECT COUNT(DISTINCT step) FROM metrics"), added);
    EXPECT_EQ(count(*s, "SELECT MAX(step) FROM metrics"), added);
}

TEST(Store, AFlushThatFailsOnAFullDiskLeavesNoRowTwiceAndNoneLost) {
    // a full batch and a 36-row tail per commit; a batch and one row (a single-row INSERT has no
    // statement journal: failing, it takes the transaction with it); tails only
    for (int per_commit : {100, 65, 7})
        for (int extra_pages = 30; extra_pages < 38; ++extra_pages) {
            SCOPED_TRACE(std::to_string(per_commit) + " rows a commit, " + std::to_string(extra_pages) + " pages");
            fill_past_a_page_limit(per_commit, extra_pages);
        }
}

// A single-row INSERT that fails on a full disk makes SQLite roll back the whole transaction: the
// store must know, so that its caller learns the earlier rows are gone and nothing is written
// outside a transaction as if it were inside one.
TEST(Store, ATransactionSQLiteRolledBackIsNotTakenForAnOpenOne) {
    test::TempDir dir;
    auto s = Store::open_write(dir.file("r.db"));
    int64_t run = started_run(*s);
    sqlite3* raw = s->db();
    std::string key(5000, 'k'); // more than a page: every row needs new pages
    s->begin();
    for (int64_t step = 0; step < 64; ++step) // one batch, written at once
        s->add_metric(run, key, step, std::nullopt, 1.0);
    exec_sql(raw, "PRAGMA max_page_count = " + std::to_string(count(*s, "PRAGMA page_count")));
    s->add_metric(run, key, 64, std::nullopt, 1.0);
    EXPECT_THROW(s->commit(), HostError);
    EXPECT_FALSE(s->in_transaction());
    exec_sql(raw, "PRAGMA max_page_count = 1000000");
    s->commit();
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 0);
}
