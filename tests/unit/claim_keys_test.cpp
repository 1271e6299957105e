// Claims written as keys (metric, where, group, x, task): the query they stand for, their parse
// errors with positions, and their names checked against the sweep's arms and plugins' schemas.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>

#include "store/sqlite_util.hpp"
#include "store/store.hpp"
#include "sweep/validate.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {

ParamSchema param(const std::string& name, iclr_param_type t) {
    ParamSchema p;
    p.name = name;
    p.type = t;
    return p;
}

PluginRegistry claim_registry() {
    PluginRecord ft;
    ft.ok = true;
    ft.kind = ICLR_KIND_METHOD;
    ft.name = "finetune";
    ft.params = {param("lr", ICLR_PARAM_FLOAT), param("epochs", ICLR_PARAM_INT), param("objective", ICLR_PARAM_STRING)};
    ft.params[2].choices = {"vicreg", "supervised"};
    PluginRecord lp = ft;
    lp.name = "linear_probe";
    PluginRecord mnist;
    mnist.ok = true;
    mnist.kind = ICLR_KIND_DATASET;
    mnist.name = "mnist";
    mnist.params = {param("tasks", ICLR_PARAM_LIST), param("per_class", ICLR_PARAM_INT)};
    return PluginRegistry::with_records({ft, lp, mnist});
}

const std::string kBase = "[dataset]\nplugin = \"mnist\"\n[method]\nplugin = \"finetune\"\n"
                          "[[arm]]\nname = \"ft\"\n[[arm]]\nname = \"lp\"\nmethod = { plugin = \"linear_probe\" }\n";

std::vector<std::string> errors(const std::string& claims) {
    try {
        auto arms = parse_arms_text(kBase + claims, "c.toml");
        std::vector<std::string> out;
        for (const auto& d : check_claim_keys(arms, claim_registry()))
            out.push_back(std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column) + ": " + d.message);
        return out;
    } catch (const SweepError& e) {
        std::vector<std::string> out;
        for (const auto& d : e.diagnostics)
            out.push_back(std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column) + ": " + d.message);
        return out;
    }
}

std::string toml_float(double x) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific, 17);
    return std::string(buf, res.ptr);
}

// The query of the first claim in `claims`, under the base sweep.
std::string sql_of(const std::string& claims) {
    return parse_arms_text(kBase + claims, "c.toml").front().claims.at(0).sql;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v)
        s += e + "\n";
    return s;
}

} // namespace

TEST(ClaimKeys, AnArmComparisonBecomesTheQueryItStandsFor) {
    auto arms = parse_arms_text(kBase + "[[claim]]\nname = \"c\"\nkind = \"greater\"\na = \"ft\"\nb = \"lp\"\n"
                                        "metric = \"ood_accuracy\"\ntask = 2\n"
                                        "where = { \"method.objective\" = \"vicreg\", \"method.lr\" = [0.01, 0.1] }\n",
                                "c.toml");
    // The arm is the sweep's own (sweep_runs, filled by verify and the report), not runs.arm: a run two
    // sweeps share carries the arm of the one that recorded it there.
    EXPECT_EQ(arms.front().claims.at(0).sql, "SELECT r.id AS run_id, r.seed, COALESCE(sa.arm, r.arm) AS grp, f.value\n"
                                             "FROM runs r\n"
                                             "JOIN final_metrics f ON f.run_id = r.id AND f.key = 'ood_accuracy' AND "
                                             "f.task = 2\n"
                                             "LEFT JOIN sweep_runs sa ON sa.id = r.id\n"
                                             "JOIN params w1 ON w1.run_id = r.id AND w1.key = 'method.objective'\n"
                                             "JOIN params w2 ON w2.run_id = r.id AND w2.key = 'method.lr'\n"
                                             "WHERE r.status = 'done'\n"
                                             "  AND COALESCE(sa.arm, r.arm) IN ('ft', 'lp')\n"
                                             "  AND w1.value = 'vicreg'\n" // where's conditions in file order
                                             "  AND w2.value IN (0.01, 0.1)");
    EXPECT_TRUE(errors("").empty());
}

TEST(ClaimKeys, AParameterGroupAndATrendQueryTheirParameters) {
    auto arms = parse_arms_text(kBase + "[[claim]]\nname = \"g\"\nkind = \"less\"\na = \"it's\"\nb = \"64\"\n"
                                        "group = \"dataset.per_class\"\nmetric = \"acc\"\n"
                                        "[[claim]]\nname = \"t\"\nkind = \"decreasing\"\nx = \"method.epochs\"\n"
                                        "metric = \"forgetting\"\nwhere = { arm = \"ft\", \"method.lr\" = 1 }\n",
                                "c.toml");
    const std::string& g = arms.front().claims.at(0).sql;
    // Rows labelled with the claim's own a and b; "64" also finds a number 64 (quote doubled in 'it''s').
    EXPECT_NE(g.find("CASE WHEN g.value IN ('it''s') THEN 'it''s' WHEN g.value IN ('64', 64) THEN '64' END AS grp"),
              std::string::npos)
        << g;
    EXPECT_NE(g.find("JOIN params g ON g.run_id = r.id AND g.key = 'dataset.per_class'"), std::string::npos) << g;
    EXPECT_NE(g.find("AND g.value IN ('it''s', '64', 64)"), std::string::npos) << g;
    const std::string& t = arms.front().claims.at(1).sql;
    EXPECT_NE(t.find("px.value AS x"), std::string::npos) << t;
    EXPECT_NE(t.find("AND COALESCE(sa.arm, r.arm) = 'ft'\n  AND w1.value = 1"), std::string::npos) << t;
    EXPECT_EQ(t.find("grp"), std::string::npos) << t;
    // A name without a section is a run attribute (text in the attributes table), read as a number.
    auto attr = parse_arms_text(kBase + "[[claim]]\nname = \"p\"\nkind = \"increasing\"\nx = \"param_count\"\n"
                                        "metric = \"forgetting\"\n",
                                "c.toml");
    const std::string& p = attr.front().claims.at(0).sql;
    EXPECT_NE(p.find("SELECT r.id AS run_id, r.seed, CAST(px.value AS REAL) AS x, f.value"), std::string::npos) << p;
    EXPECT_NE(p.find("JOIN attributes px ON px.run_id = r.id AND px.key = 'param_count'"), std::string::npos) << p;
    EXPECT_TRUE(check_claim_keys(attr, claim_registry()).empty()); // checked against the runs by verify
    // x = { metric = "..." }: another final metric of the same run, the value's task's row.
    const std::string metric = "[[claim]]\nname = \"m\"\nkind = \"increasing\"\nx = { metric = \"arc\" }\n"
                               "metric = \"probe\"\n";
    EXPECT_EQ(sql_of(metric), "SELECT r.id AS run_id, r.seed, fx.value AS x, f.value\n"
                              "FROM runs r\n"
                              "JOIN final_metrics f ON f.run_id = r.id AND f.key = 'probe'\n"
                              "JOIN final_metrics fx ON fx.run_id = r.id AND fx.key = 'arc' AND fx.task IS f.task\n"
                              "WHERE r.status = 'done'");
    // group = "metric": a row per run for each of two final metrics, labelled by its key.
    const std::string two = "[[claim]]\nname = \"two\"\nkind = \"less\"\ngroup = \"metric\"\n"
                            "a = \"rank_metabu\"\nb = \"rank_random\"\nwhere = { arm = \"ft\" }\n";
    EXPECT_EQ(sql_of(two), "SELECT r.id AS run_id, r.seed, f.key AS grp, f.value\n"
                           "FROM runs r\n"
                           "JOIN final_metrics f ON f.run_id = r.id AND f.key IN ('rank_metabu', 'rank_random')\n"
                           "LEFT JOIN sweep_runs sa ON sa.id = r.id\n"
                           "WHERE r.status = 'done'\n"
                           "  AND COALESCE(sa.arm, r.arm) = 'ft'");
    EXPECT_TRUE(errors(metric + two).empty()); // metric keys: checked against the runs, not the schemas
}

TEST(ClaimKeys, WhereTakesExcludesOperators) {
    auto arms = parse_arms_text(kBase + "[[claim]]\nname = \"o\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                                        "where = { \"dataset.per_class\" = { ge = 20 }, \"method.lr\" = { lt = 0.5 }, "
                                        "\"method.objective\" = { ne = \"vicreg\" }, arm = { in = [\"lp\"] } }\n",
                                "c.toml");
    const std::string& sql = arms.front().claims.at(0).sql;
    for (const char* cond : {"AND COALESCE(sa.arm, r.arm) IN ('lp')", "AND w1.value >= 20", "AND w2.value < 0.5",
                             "AND w3.value <> 'vicreg'"})
        EXPECT_NE(sql.find(cond), std::string::npos) << cond << " in\n" << sql;
    EXPECT_TRUE(check_claim_keys(arms, claim_registry()).empty());
}

// The params table holds each trial's exact double; the literal the query compares it with must
// read back as that double, or `where` would silently select nothing.
TEST(ClaimKeys, AFloatInWhereFindsTheExactValueATrialRanWith) {
    test::TempDir dir;
    auto store = Store::open_write(dir.file("f.db"));
    exec_sql(store->db(), "CREATE TEMP TABLE v(x REAL)");
    for (double x : {0.1, 0.3, 0.01, 3e-4, 1e-5, 0.05, 2.5e-3, 0.9, 0.999, 1.0 / 3, 123456.789, 1e-300, 6.02e23,
                     std::nextafter(0.1, 1.0)}) {
        auto arms = parse_arms_text(kBase +
                                        "[[claim]]\nname = \"f\"\nkind = \"at_most\"\nthreshold = 1\n"
                                        "metric = \"m\"\nwhere = { \"method.lr\" = " +
                                        toml_float(x) + " }\n",
                                    "c.toml");
        const ClaimSpec& c = arms.front().claims.at(0);
        double ran_with = c.where.at(0).values.at(0).f; // as the sweep file's TOML reads it
        std::string literal = c.sql.substr(c.sql.rfind("w1.value = ") + 11);
        Statement st(store->db(), "SELECT ? = " + literal);
        st.bind(1, ran_with);
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.col_int(0), 1) << x << " written as " << literal;
    }
}

// a and b of a parameter group are text; the params table holds each trial's typed value (a bool as
// 0 / 1, a float as a double). Each spelling a researcher would write finds the runs that have it.
TEST(ClaimKeys, AParameterGroupFindsRunsByTheTypedValue) {
    test::TempDir dir;
    auto store = Store::open_write(dir.file("g.db"));
    exec_sql(store->db(),
             "CREATE TEMP TABLE runs(id INTEGER, seed INTEGER, status TEXT, arm TEXT);"
             "CREATE TEMP TABLE params(run_id INTEGER, key TEXT, type TEXT, value);"
             "CREATE TEMP TABLE final_metrics(run_id INTEGER, key TEXT, task INTEGER, value REAL);"
             "INSERT INTO runs VALUES (1, 0, 'done', 'ft'), (2, 0, 'done', 'ft'), (3, 1, 'failed', 'ft');"
             "INSERT INTO params VALUES (1, 'dataset.k', 'bool', 1), (2, 'dataset.k', 'bool', 0), (3, 'dataset.k', "
             "'bool', 1),"
             " (1, 'dataset.f', 'float', 0.01), (2, 'dataset.f', 'float', 64.0), (1, 'dataset.i', 'int', 64), (2, "
             "'dataset.i', 'int', 7),"
             " (1, 'dataset.s', 'string', 'true'), (2, 'dataset.s', 'string', '64');"
             "INSERT INTO final_metrics VALUES (1, 'm', NULL, 0.5), (2, 'm', NULL, 0.25), (3, 'm', NULL, 9);");
    auto groups = [&](const std::string& key, const std::string& a, const std::string& b) {
        auto arms = parse_arms_text(kBase + "[[claim]]\nname = \"g\"\nkind = \"less\"\nmetric = \"m\"\ngroup = \"" +
                                        key + "\"\na = \"" + a + "\"\nb = \"" + b + "\"\n",
                                    "c.toml");
        std::string got; // SQLite finds a TEMP table before the store's table of the same name
        Statement st(store->db(), arms.front().claims.at(0).sql + " ORDER BY r.id");
        while (st.step())
            got += (got.empty() ? "" : " ") + std::to_string(st.col_int(0)) + ":" + st.col_text(2);
        return got;
    };
    EXPECT_EQ(groups("dataset.k", "true", "false"), "1:true 2:false"); // the failed run 3 is left out
    EXPECT_EQ(groups("dataset.f", "1e-2", "64"), "1:1e-2 2:64");
    EXPECT_EQ(groups("dataset.f", "0.01", "64.0"), "1:0.01 2:64.0");
    EXPECT_EQ(groups("dataset.i", "64", "7"), "1:64 2:7");
    EXPECT_EQ(groups("dataset.i", "6_4", "7"), "1:6_4 2:7");     // read as TOML reads it, as the check does
    EXPECT_EQ(groups("dataset.s", "true", "64"), "1:true 2:64"); // string values that read as numbers
    EXPECT_EQ(groups("dataset.f", "0.010000001", "65"), "");
}

// { at = "max" } is the parameter's largest value among the trials of the sweep as written (the
// sweep_runs table verify fills), not among every run in the database: a wider variant run into the
// same database does not move "at the largest width" away from the sweep being verified.
TEST(ClaimKeys, WhereAtMaxTakesTheSweepsLargestValue) {
    test::TempDir dir;
    auto store = Store::open_write(dir.file("at.db"));
    exec_sql(store->db(),
             "CREATE TEMP TABLE runs(id INTEGER, seed INTEGER, status TEXT, arm TEXT);"
             "CREATE TEMP TABLE params(run_id INTEGER, key TEXT, type TEXT, value);"
             "CREATE TEMP TABLE final_metrics(run_id INTEGER, key TEXT, task INTEGER, value REAL);"
             "CREATE TEMP TABLE sweep_runs(id INTEGER PRIMARY KEY);"
             "INSERT INTO runs VALUES (1, 0, 'done', 'ft'), (2, 0, 'done', 'ft'), (3, 1, 'done', 'ft'),"
             " (4, 0, 'done', 'ft'), (5, 2, 'failed', 'ft');"
             "INSERT INTO params VALUES (1, 'dataset.per_class', 'int', 16), (2, 'dataset.per_class', 'int', 64),"
             " (3, 'dataset.per_class', 'int', 64), (4, 'dataset.per_class', 'int', 128),"
             " (5, 'dataset.per_class', 'int', 64);"
             "INSERT INTO final_metrics VALUES (1, 'm', NULL, 1), (2, 'm', NULL, 2), (3, 'm', NULL, 3),"
             " (4, 'm', NULL, 4), (5, 'm', NULL, 5);"
             "INSERT INTO sweep_runs VALUES (1), (2), (3), (5);"); // run 4: another variant's, wider
    auto runs = [&](const std::string& at) {
        auto arms = parse_arms_text(kBase +
                                        "[[claim]]\nname = \"a\"\nkind = \"at_most\"\nthreshold = 1\n"
                                        "metric = \"m\"\nwhere = { \"dataset.per_class\" = { at = \"" +
                                        at + "\" } }\n",
                                    "c.toml");
        EXPECT_TRUE(check_claim_keys(arms, claim_registry()).empty());
        std::string got;
        Statement st(store->db(), arms.front().claims.at(0).sql + " ORDER BY r.id");
        while (st.step())
            got += (got.empty() ? "" : " ") + std::to_string(st.col_int(0));
        return got;
    };
    EXPECT_EQ(runs("max"), "2 3"); // 64, not run 4's 128; the failed run 5 is left out
    EXPECT_EQ(runs("min"), "1");
    std::string e = joined(errors("[[claim]]\nname = \"e\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                                  "where = { \"method.lr\" = { at = \"largest\" } }\n"));
    EXPECT_NE(e.find("15:32: claim.where.method.lr: at takes \"max\" or \"min\""), std::string::npos) << e;
    e = joined(errors("[[claim]]\nname = \"f\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                      "where = { arm = { at = \"max\" }, \"method.objective\" = { at = \"min\" } }\n"));
    EXPECT_NE(e.find("claim 'f': where arm: at = \"max\" needs a number parameter"), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'f': where method.objective: at = \"min\" needs a number parameter"), std::string::npos)
        << e;
}

// argmax / argmin over a hand-made database: each cell (arm, plugins, the other parameters) keeps
// the runs at its best value of the tuned key by the seeds' mean; a value with a diverged run is
// never chosen, ties go to the smaller value, a run outside sweep_runs neither competes nor comes
// back (run 13, the best of all, is another variant's), and a run whose plugin lacks the key has no
// other value to lose to (run 16).
TEST(ClaimKeys, WhereArgmaxKeepsEachCellsTunedValue) {
    test::TempDir dir;
    auto store = Store::open_write(dir.file("tuned.db"));
    exec_sql(store->db(),
             "CREATE TEMP TABLE runs(id INTEGER, seed INTEGER, status TEXT, arm TEXT, dataset TEXT, model TEXT, "
             "method TEXT);"
             "CREATE TEMP TABLE params(run_id INTEGER, key TEXT, type TEXT, value);"
             "CREATE TEMP TABLE final_metrics(run_id INTEGER, key TEXT, task INTEGER, value REAL);"
             "CREATE TEMP TABLE sweep_runs(id INTEGER PRIMARY KEY, arm TEXT, sweep TEXT);");
    struct Run {
        int id, seed;
        const char *status, *arm;
        double lr;
        int per_class;
        double acc, forgetting;
    };
    const std::vector<Run> runs{{1, 0, "done", "ft", 0.1, 16, 0.8, 0.3},   {2, 1, "done", "ft", 0.1, 16, 0.9, 0.1},
                                {3, 0, "done", "ft", 0.01, 16, 0.7, 0.05}, {4, 1, "done", "ft", 0.01, 16, 0.7, 0.05},
                                {5, 0, "done", "ft", 0.1, 64, 0.99, 0.2},  {6, 1, "diverged", "ft", 0.1, 64, NAN, NAN},
                                {7, 0, "done", "ft", 0.01, 64, 0.6, 0.2},  {8, 1, "done", "ft", 0.01, 64, 0.6, 0.2},
                                {9, 0, "done", "lp", 0.1, 16, 0.5, 0.0},   {10, 1, "done", "lp", 0.1, 16, 0.5, 0.0},
                                {11, 0, "done", "lp", 0.01, 16, 0.6, 0.4}, {12, 1, "done", "lp", 0.01, 16, 0.6, 0.4},
                                {13, 0, "done", "ft", 1.0, 16, 1.0, 0.0},  {14, 0, "done", "lp", 0.1, 64, 0.5, 0.1},
                                {15, 0, "done", "lp", 0.01, 64, 0.5, 0.1}, {16, 0, "done", "lp", NAN, 32, 0.4, 0.2}};
    for (const Run& r : runs) {
        const std::string id = std::to_string(r.id), method = r.arm == std::string("ft") ? "finetune" : "linear_probe";
        exec_sql(store->db(), "INSERT INTO runs VALUES (" + id + ", " + std::to_string(r.seed) + ", '" + r.status +
                                  "', '" + r.arm + "', 'mnist', 'mlp', '" + method + "');" +
                                  "INSERT INTO params VALUES (" + id + ", 'dataset.per_class', 'int', " +
                                  std::to_string(r.per_class) + ");");
        if (!std::isnan(r.lr)) // run 16: a plugin without the key
            exec_sql(store->db(),
                     "INSERT INTO params VALUES (" + id + ", 'method.lr', 'float', " + toml_float(r.lr) + ");");
        if (!std::isnan(r.acc))
            exec_sql(store->db(), "INSERT INTO final_metrics VALUES (" + id + ", 'acc', NULL, " + toml_float(r.acc) +
                                      "), (" + id + ", 'forgetting', NULL, " + toml_float(r.forgetting) + ");");
        if (r.id != 13) exec_sql(store->db(), "INSERT INTO sweep_runs VALUES (" + id + ", '" + r.arm + "', 'c');");
    }
    auto rows = [&](const std::string& where) {
        auto arms = parse_arms_text(kBase +
                                        "[[claim]]\nname = \"t\"\nkind = \"less\"\na = \"ft\"\nb = \"lp\"\n"
                                        "metric = \"forgetting\"\nwhere = { " +
                                        where + " }\n",
                                    "c.toml");
        EXPECT_TRUE(check_claim_keys(arms, claim_registry()).empty());
        std::string got;
        Statement st(store->db(),
                     "SELECT run_id, \"method.lr\" FROM (" + arms.front().claims.at(0).sql + ") ORDER BY run_id");
        while (st.step())
            got += (got.empty() ? "" : " ") + std::to_string(st.col_int(0)) + "@" +
                   (st.col_null(1) ? "-" : st.col_text(1));
        return got;
    };
    // ft 16: 0.1 (0.85 > 0.7); ft 64: 0.01 (0.1's seed 1 diverged); lp 16: 0.01; lp 64: a tie, 0.01.
    EXPECT_EQ(rows("\"method.lr\" = { argmax = \"acc\" }"), "1@0.1 2@0.1 7@0.01 8@0.01 11@0.01 12@0.01 15@0.01 16@-");
    EXPECT_EQ(rows("\"method.lr\" = { argmin = \"forgetting\" }"),
              "3@0.01 4@0.01 7@0.01 8@0.01 9@0.1 10@0.1 15@0.01 16@-");
    // seeds = [0]: seed 0's runs choose (ft 64 takes 0.1, whose seed-1 run diverged and gives no row;
    // lp 64's tie and run 16 are seed 0's, not measured), and only the other seeds' rows come back.
    EXPECT_EQ(rows("\"method.lr\" = { argmax = \"acc\", seeds = [0] }"), "2@0.1 12@0.01");
    // Other conditions keep rows; they do not change what each cell chose.
    EXPECT_EQ(rows("\"dataset.per_class\" = 16, \"method.lr\" = { argmax = \"acc\" }"), "1@0.1 2@0.1 11@0.01 12@0.01");
    // Two keys are tuned together, by one ranking: each (lr, per_class) pair is a value of the arm's
    // one cell (ft: 0.1 at 16, 0.85; lp: 0.01 at 16, 0.6 against 0.5 for the other three pairs).
    EXPECT_EQ(rows("\"method.lr\" = { argmax = \"acc\" }, \"dataset.per_class\" = { argmax = \"acc\" }"),
              "1@0.1 2@0.1 11@0.01 12@0.01");
    std::string e = joined(errors("[[claim]]\nname = \"e\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                                  "where = { \"method.lr\" = { argmax = 3 } }\n"));
    EXPECT_NE(e.find("15:36: claim.where.method.lr: argmax takes a final metric's key"), std::string::npos) << e;
    e = joined(errors("[[claim]]\nname = \"e\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                      "where = { \"method.lr\" = { argmax = \"acc\" }, \"method.epochs\" = { argmin = \"acc\" } }\n"));
    EXPECT_NE(e.find("claim.where.method.epochs: tuned together with method.lr, so by the same argmax = \"acc\""),
              std::string::npos)
        << e;
    e = joined(errors("[[claim]]\nname = \"e\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                      "where = { \"method.lr\" = { argmax = \"acc\", seeds = [] } }\n"));
    EXPECT_NE(e.find("claim.where.method.lr: beside argmax only seeds = [0, 1, ...]"), std::string::npos) << e;
    e = joined(errors("[[claim]]\nname = \"f\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                      "where = { arm = { argmax = \"acc\" }, \"method.lx\" = { argmax = \"acc\" } }\n"));
    EXPECT_NE(e.find("claim 'f': where arm: argmax tunes a parameter (\"method.lr\"), not the arm"), std::string::npos)
        << e;
    EXPECT_NE(e.find("claim 'f': where method.lx:"), std::string::npos) << e;
}

TEST(ClaimKeys, ParseErrorsNameTheKeyAndItsPosition) {
    std::string e =
        joined(errors("[[claim]]\nname = \"a\"\nkind = \"at_most\"\nthreshold = 1\n"
                      "metric = \"m\"\nsql = \"SELECT 1 AS value\"\n"
                      "[[claim]]\nname = \"b\"\nkind = \"decreasing\"\nmetric = \"m\"\n"
                      "[[claim]]\nname = \"c\"\nkind = \"at_least\"\nthreshold = 0\nsql = \"SELECT 1 AS value\"\n"
                      "where = { arm = \"ft\" }\n"
                      "[[claim]]\nname = \"d\"\nkind = \"at_least\"\nthreshold = 0\nmetric = \"m\"\n"
                      "x = \"method.lr\"\ngroup = \"arm\"\ntask = -1\n"
                      "where = { arm = { near = 1 }, dataset = { lt = \"a\" }, method = { in = \"b\" } }\n"
                      "[[claim]]\nname = \"e\"\nkind = \"at_least\"\nthreshold = 0\n"
                      "[[claim]]\nname = \"f\"\nkind = \"increasing\"\nmetric = \"m\"\nx = { metric = 1 }\n"
                      "[[claim]]\nname = \"g\"\nkind = \"less\"\na = \"m1\"\nb = \"m2\"\nmetric = \"m\"\n"
                      "group = \"metric\"\n"));
    EXPECT_NE(e.find("15:7: claim 'a': give sql or metric, not both"), std::string::npos) << e;
    EXPECT_NE(e.find("16:1: claim 'b': kind decreasing needs x = \"section.key\""), std::string::npos) << e;
    EXPECT_NE(e.find("20:1: claim 'c': group, x, task and where go with metric"), std::string::npos) << e;
    EXPECT_NE(e.find("31:5: claim 'd': x is for kinds increasing and decreasing"), std::string::npos) << e;
    EXPECT_NE(e.find("32:9: claim 'd': group names the column a and b are values of"), std::string::npos) << e;
    EXPECT_NE(e.find("33:8: claim.task must be an integer >= 0"), std::string::npos) << e;
    EXPECT_NE(e.find("34:17: claim.where.arm: one operator, e.g. { gt = 0.1 } (eq ne lt le gt ge in; at = \"max\" or "
                     "\"min\"; argmax or argmin = \"a metric\")"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("claim.where.dataset: lt takes a number"), std::string::npos) << e;
    EXPECT_NE(e.find("claim.where.method: in takes an array"), std::string::npos) << e;
    EXPECT_NE(e.find("35:1: claim 'e' needs sql = \"SELECT ...\" or metric = \"...\""), std::string::npos) << e;
    EXPECT_NE(e.find("50:9: claim 'g': with group = \"metric\", a and b are the two final metrics compared; drop "
                     "metric = \"...\""),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find("claim 'f': kind increasing needs x"), std::string::npos) << e; // said once, at the x
    EXPECT_NE(e.find("43:5: claim.x must be a parameter (\"model.width\"), a run attribute (\"param_count\") or "
                     "{ metric = \"...\" }"),
              std::string::npos)
        << e;
}

// binary = true declares each run's value a 0/1 event (claims/evaluate.cpp widens the interval
// to the exact binomial one); a boolean, and not for a rank correlation.
TEST(ClaimKeys, BinaryDeclaresZeroOneEvents) {
    std::string events = "[[claim]]\nname = \"c\"\nkind = \"at_most\"\nthreshold = 0\nmetric = \"collapsed\"\n";
    auto arms = parse_arms_text(kBase + events + "binary = true\n", "c.toml");
    EXPECT_TRUE(arms.front().claims.at(0).binary);
    EXPECT_FALSE(parse_arms_text(kBase + events, "c.toml").front().claims.at(0).binary);
    std::string e = joined(errors(events + "binary = 1\n"));
    EXPECT_NE(e.find("15:10: claim.binary must be true or false"), std::string::npos) << e;
    e = joined(errors("[[claim]]\nname = \"r\"\nkind = \"increasing\"\nmetric = \"m\"\nx = \"method.lr\"\n"
                      "binary = true\n"));
    EXPECT_NE(e.find("claim 'r': binary = true goes with a rate or a difference of rates"), std::string::npos) << e;
}

TEST(ClaimKeys, NamesAreCheckedAgainstTheArmsAndThePluginsSchemas) {
    std::string e = joined(errors(
        "[[claim]]\nname = \"p\"\nkind = \"greater\"\na = \"ft\"\nb = \"lq\"\nmetric = \"m\"\n"
        "where = { \"method.lrr\" = 0.1, \"method.lr\" = \"fast\", \"dataset.tasks\" = 1, \"metod.lr\" = 1, "
        "\"method.objective\" = \"vicrag\", dataset = \"mnistt\", arm = \"ft\" }\n"
        "[[claim]]\nname = \"x\"\nkind = \"increasing\"\nx = \"method.objective\"\nmetric = \"m\"\n"
        "[[claim]]\nname = \"g\"\nkind = \"less\"\na = \"1\"\nb = \"2\"\ngroup = \"method.epochz\"\nmetric = \"m\"\n"
        "[[claim]]\nname = \"v\"\nkind = \"less\"\na = \"fast\"\nb = \"0.5\"\ngroup = \"method.epochs\"\nmetric = "
        "\"m\"\n"
        "[[claim]]\nname = \"w\"\nkind = \"less\"\na = \"vicrag\"\nb = \"vicreg\"\ngroup = \"method.objective\"\n"
        "metric = \"m\"\n"
        "[[claim]]\nname = \"y\"\nkind = \"less\"\na = \"1e-2\"\nb = \"3\"\ngroup = \"method.lr\"\nmetric = \"m\"\n"));
    EXPECT_NE(e.find("claim 'p': group arm: no arm 'lq' (arms: ft, lp)"), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'p': where method.lrr: method 'finetune' has no parameter 'lrr' (did you mean 'lr'?)"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("claim 'p': where method.lr: expected a float, got string \"fast\""), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'p': where dataset.tasks: a list parameter"), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'p': where metod.lr: no section 'metod' in the sweep"), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'p': where method.objective: \"vicrag\" is not one of: vicreg, supervised"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("claim 'p': where dataset: no dataset plugin 'mnistt' (dataset plugins: mnist)"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find("where arm"), std::string::npos) << e; // "ft" is an arm
    EXPECT_NE(e.find("claim 'x': x method.objective: a string parameter, not a number"), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'g': group method.epochz: method 'finetune' has no parameter 'epochz' (did you mean "
                     "'epochs'?)"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("claim 'v': group method.epochs: expected an int, got string \"fast\""), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'v': group method.epochs: expected an int, got float 0.5"), std::string::npos) << e;
    EXPECT_NE(e.find("claim 'w': group method.objective: \"vicrag\" is not one of: vicreg, supervised"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find("claim 'y'"), std::string::npos) << e; // 1e-2 and 3 are floats
    // A parameter only the other arm's plugin declares is fine: the rows of the arm that has it match.
    EXPECT_TRUE(errors("[[claim]]\nname = \"l\"\nkind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                       "where = { \"method.lr\" = 0.5 }\n")
                    .empty());
}

TEST(ClaimKeys, ASweepWithoutArmsMustNameTheGroupColumn) {
    auto arms = parse_arms_text("[method]\nplugin = \"finetune\"\n[[claim]]\nname = \"n\"\nkind = \"less\"\n"
                                "a = \"x\"\nb = \"y\"\nmetric = \"m\"\n",
                                "c.toml");
    auto d = check_claim_keys(arms, claim_registry());
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NE(d[0].message.find("a and b are arms unless group = \"...\" names their column, and the sweep has no "
                                "[[arm]]s"),
              std::string::npos)
        << d[0].message;
    // Plugins that did not load are not checked here (the sweep's own checks name them).
    auto unknown = parse_arms_text("[method]\nplugin = \"nosuch\"\n[[claim]]\nname = \"u\"\nkind = \"at_most\"\n"
                                   "threshold = 1\nmetric = \"m\"\nwhere = { \"method.anything\" = 1 }\n",
                                   "c.toml");
    EXPECT_TRUE(check_claim_keys(unknown, claim_registry()).empty());
}
