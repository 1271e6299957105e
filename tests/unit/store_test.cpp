// Store: schema creation and versioning, run lifecycle, resume semantics, stale-run recovery.
#include <gtest/gtest.h>

#include "schema.hpp"
#include "store.hpp"
#include "test_util.hpp"
#include "validate.hpp"

using namespace iclr;

namespace {

struct Fixture {
    SweepSpec spec;
    std::vector<const PluginRecord*> plugins;
    PluginRegistry reg = PluginRegistry::with_records({});
    PluginRecord rec;
    Fixture() {
        rec.ok = true;
        rec.kind = ICLR_KIND_METHOD;
        rec.name = "noop";
        rec.version = "1.0.0";
        ParamSchema p;
        p.name = "k";
        p.type = ICLR_PARAM_INT;
        p.default_toml = "0";
        p.default_value = Value::of_int(0);
        rec.params = {p};
        reg = PluginRegistry::with_records({rec});
        spec = parse_sweep_text("[method]\nplugin = \"noop\"\nk = { grid = [1, 2, 3] }\n", "t.toml");
        plugins = validate_sweep(spec, reg);
    }
    ResolvedTrial trial(uint64_t i) { return resolve_trial(spec, plugins, Expansion(spec).at(i)); }
};

int64_t count(Store& s, const std::string& sql) {
    Statement st(s.db(), sql);
    st.step();
    return st.col_int(0);
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
    Fixture f;
    auto s = Store::open_write(dir.file("r.db"));
    s->begin();
    int64_t sweep = s->add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
    auto t = f.trial(1);
    int64_t run = s->prepare_run(sweep, t, "{}", "", -1);
    s->commit();
    EXPECT_EQ(s->find_run(t.key)->second, "pending");
    s->mark_running(run, {42, 1, "cpu", "host", "1.13.0"});
    s->begin();
    s->add_metric(run, "acc", 0, 0, 0.5);
    s->add_metric(run, "loss", 3, std::nullopt, 1.25);
    s->set_attribute(run, "cache_key", "abc");
    s->commit();
    s->finish_run(run, {"done", "", "", std::nullopt, std::nullopt, 1.5});
    EXPECT_EQ(s->find_run(t.key)->second, "done");
    EXPECT_EQ(count(*s, "SELECT value FROM params WHERE key = 'method.k'"), 2);
    EXPECT_EQ(count(*s, "SELECT typeof(value) = 'integer' FROM params WHERE key = 'method.k'"), 1);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics WHERE task IS NULL"), 1);
    EXPECT_EQ(count(*s, "SELECT attempts FROM runs"), 1);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM final_metrics WHERE run_id = " + std::to_string(run)),
              2); // filled at finish
}

TEST(Store, RerunningAnUnfinishedTrialDropsItsPartialMetrics) {
    test::TempDir dir;
    Fixture f;
    auto s = Store::open_write(dir.file("r.db"));
    int64_t sweep = s->add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
    auto t = f.trial(0);
    int64_t run = s->prepare_run(sweep, t, "{}", "", -1);
    s->mark_running(run, {1, 1, "cpu", "h", "v"});
    s->add_metric(run, "acc", 0, 0, 0.1);
    EXPECT_EQ(s->recover_stale_running(), 1); // the host died here
    EXPECT_EQ(s->find_run(t.key)->second, "interrupted");
    int64_t again = s->prepare_run(sweep, t, "{}", "", -1);
    EXPECT_EQ(again, run); // same key, same row: no duplicate run
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 0);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM runs"), 1);
    EXPECT_EQ(s->find_run(t.key)->second, "pending");
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

TEST(Store, OlderSchemaIsMigratedWithoutLoss) {
    test::TempDir dir;
    // A version-0 file (empty database, as an older iclr would leave before its first sweep) with user data.
    {
        sqlite3* db = nullptr;
        sqlite3_open(dir.file("r.db").c_str(), &db);
        exec_sql(db, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES ('keep me');");
        sqlite3_close(db);
    }
    auto s = Store::open_write(dir.file("r.db"));
    EXPECT_EQ(s->version(), schema_version());
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM notes WHERE x = 'keep me'"), 1);
}

TEST(Store, ARealVersion1DatabaseOpensWithEveryRowKept) {
    test::TempDir dir;
    std::string db_path = dir.file("old.db");
    {
        sqlite3* db = nullptr;
        sqlite3_open(db_path.c_str(), &db);
        exec_sql(db, test::read_file(std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/db/schema_v1.sql"));
        exec_sql(db, "PRAGMA user_version = 1"); // .dump does not carry it
        sqlite3_close(db);
    }
    auto s = Store::open_write(db_path);
    EXPECT_EQ(s->version(), schema_version());
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), 4);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM metrics"), 12);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM params WHERE key = 'method.tag'"), 4);
    EXPECT_EQ(count(*s, "SELECT COUNT(*) FROM final_metrics"), 4); // the v1 view's rows, now a table
    EXPECT_EQ(count(*s, "SELECT value * 10 FROM final_metrics WHERE run_id = 1"), 10); // noop's last value: 2 * 0.5
}
