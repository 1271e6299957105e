// iclr query's guard: reads pass; writes, ATTACH, writable PRAGMAs and multi-statements are refused.
#include <gtest/gtest.h>

#include "cli/table.hpp"
#include "store/query.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {

std::string refusal(Store& s, const std::string& sql) {
    try {
        run_query(s, sql, false);
    } catch (const UserError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(Query, ReadsWorkAndRenderInEveryFormat) {
    test::TempDir dir;
    {
        auto w = Store::open_write(dir.file("r.db"));
        w->add_sweep({"s, with comma", "f", "", "src", "sha", "", "h", -1});
    }
    auto s = Store::open_read(dir.file("r.db"));
    auto rs = run_query(*s, "SELECT id, name, 0.5 AS x, NULL AS n FROM sweeps", true);
    ASSERT_EQ(rs.rows.size(), 1u);
    EXPECT_EQ(render(rs, Format::Csv), "id,name,x,n\n1,\"s, with comma\",0.5,\n");
    EXPECT_EQ(render(rs, Format::Json), "[\n {\"id\": 1, \"name\": \"s, with comma\", \"x\": 0.5, \"n\": null}\n]\n");
    EXPECT_NE(render(rs, Format::Markdown).find("| 1 | s, with comma | 0.5 | NULL |"), std::string::npos);
    EXPECT_NE(render(rs, Format::Table).find("(1 row)"), std::string::npos);
    EXPECT_EQ(run_query(*s, "PRAGMA table_info(runs)", false).rows.size() > 5, true);
    EXPECT_EQ(
        run_query(*s,
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5) SELECT SUM(i) FROM c",
                  false)
            .rows[0][0],
        "15");
}

TEST(Query, EveryKindOfWriteIsRefusedAndTheFileIsUnchanged) {
    test::TempDir dir;
    {
        auto w = Store::open_write(dir.file("r.db"));
        w->add_sweep({"s", "f", "", "src", "sha", "", "h", -1});
        exec_sql(w->db(), "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::string before = test::read_file(dir.file("r.db"));
    auto s = Store::open_read(dir.file("r.db"));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"INSERT INTO sweeps(name) VALUES('x')", "INSERT"},
        {"UPDATE runs SET status = 'done'", "UPDATE"},
        {"DELETE FROM metrics", "DELETE"},
        {"DROP TABLE runs", "a schema change is refused"},
        {"ATTACH DATABASE '" + dir.file("other.db") + "' AS o", "ATTACH"},
        {"VACUUM INTO '" + dir.file("copy.db") + "'", "refused"},
        {"PRAGMA user_version = 5", "PRAGMA user_version = 5"},
        {"PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE"},
        {"CREATE TABLE t(x)", "a schema change is refused"},
        {"SELECT 1; DELETE FROM runs", "one statement at a time"},
        {"BEGIN", "refused"},
    };
    for (const auto& [sql, want] : cases) {
        std::string msg = refusal(*s, sql);
        EXPECT_NE(msg.find(want), std::string::npos) << sql << " -> " << msg;
    }
    s.reset();
    EXPECT_EQ(test::read_file(dir.file("r.db")), before);
    EXPECT_FALSE(std::filesystem::exists(dir.file("copy.db")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("other.db")));
}

// Table-valued functions read the JSON columns (config_json, plugins_json) and the schema; SQLite
// sets their virtual tables up through the schema table, which the guard once took for a change
// ("a schema change is refused" for any json_each, until 2026-12-05).
TEST(Query, TableValuedFunctionsAreReads) {
    test::TempDir dir;
    { Store::open_write(dir.file("r.db")); }
    auto s = Store::open_read(dir.file("r.db"));
    EXPECT_EQ(run_query(*s, "SELECT group_concat(j.key) FROM json_each('{\"a\": 1, \"b\": 2}') j", false).rows[0][0],
              "a,b");
    EXPECT_EQ(run_query(*s, "SELECT COUNT(*) FROM json_tree('[1, [2, 3]]')", false).rows[0][0], "5");
    EXPECT_EQ(run_query(*s, "SELECT name FROM pragma_table_info('runs') WHERE cid = 0", false).rows[0][0], "id");
    EXPECT_NE(refusal(*s, "UPDATE sqlite_master SET sql = 'x'"), "");
}

TEST(Query, SqlErrorsAreUserErrors) {
    test::TempDir dir;
    { Store::open_write(dir.file("r.db")); }
    auto s = Store::open_read(dir.file("r.db"));
    EXPECT_NE(refusal(*s, "SELEC 1").find("SQL error"), std::string::npos);
    EXPECT_NE(refusal(*s, "SELECT * FROM nope").find("no such table: nope"), std::string::npos);
}

// A misspelt name says what was meant, or what there is to choose from.
TEST(Query, NameErrorsNameTheNearestOrWhatThereIs) {
    test::TempDir dir;
    { Store::open_write(dir.file("r.db")); }
    auto s = Store::open_read(dir.file("r.db"));
    auto says = [&](const std::string& sql, const std::string& what) {
        std::string e = refusal(*s, sql);
        EXPECT_NE(e.find(what), std::string::npos) << sql << ": " << e;
    };
    says("SELECT stddev(value) FROM metrics", "no such function: stddev (did you mean 'stdev'?)");
    says("SELECT ci95(value) FROM metrics", "no such function: ci95 (did you mean ci95_low, ci95_high?)");
    // Two edits would make "foo" SQLite's pow(): a name of up to four letters gets one.
    says("SELECT foo(1)", "no such function: foo (iclr adds variance, stdev, sem, ci95_low, ci95_high, median, "
                          "quantile, pearson, spearman, trial_config to SQLite's own");
    says("SELECT * FROM metric", "no such table: metric (did you mean 'metrics'?)");
    says("SELECT * FROM main.final_metric", "no such table: main.final_metric (did you mean 'final_metrics'?)");
    says("SELECT * FROM xyzzy", "no such table: xyzzy (the tables and views: ");
    EXPECT_NE(refusal(*s, "SELECT * FROM xyzzy").find("accuracy_matrix"), std::string::npos);
    says("SELECT * FROM o.runs", "no such table: o.runs (no database is attached as 'o': --attach o=FILE)");
    says("SELECT f.vale FROM final_metrics f", "no such column: f.vale (did you mean 'value'?)");
    EXPECT_EQ(refusal(*s, "SELECT qqqqq FROM runs"), "SQL error: no such column: qqqqq");
    exec_sql(s->db(), "PRAGMA query_only=0; CREATE TEMP TABLE sweep_runs(id, arm, sweep)");
    says("SELECT s.sweeep FROM sweep_runs s", "no such column: s.sweeep (did you mean 'sweep'?)");
    s->attach_read_only("o", dir.file("r.db"));
    says("SELECT * FROM o.run", "no such table: o.run (did you mean 'runs'?)");
}

// The runs a claim's or plot's row names: run_id, base_run_id, and each id of a run_ids list (a
// row averaging runs); a row naming any run outside the sweep's is left out and counted.
TEST(Query, ARowNamesItsRunsByIdPairOrList) {
    test::TempDir dir;
    { Store::open_write(dir.file("r.db")); }
    auto s = Store::open_read(dir.file("r.db"));
    auto rs = run_query(*s,
                        "SELECT 1 AS run_id, 2 AS base_run_id, '3,4,5' AS run_ids UNION ALL "
                        "SELECT 6, NULL, '7' UNION ALL SELECT NULL, NULL, NULL",
                        true);
    EXPECT_EQ(runs_of_row(rs, 0), (std::vector<int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(runs_of_row(rs, 1), (std::vector<int64_t>{6, 7}));
    EXPECT_TRUE(runs_of_row(rs, 2).empty());
    size_t left_out = 0;
    auto kept = rows_of_runs(rs, std::set<int64_t>{1, 2, 3, 4, 6, 7}, &left_out); // 5 is not one of them
    EXPECT_EQ(kept.rows.size(), 2u);
    EXPECT_EQ(kept.rows[0][0], "6");
    EXPECT_EQ(left_out, 1u);
    EXPECT_TRUE(names_runs(rs));
}
