// SQL statistics: checked against published values (Student's t table, textbook examples) and
// through a real SQLite connection, including NULLs and too-few-values cases.
#include <gtest/gtest.h>

#include <cmath>

#include "store/sql_stats.hpp"
#include "store/sqlite_util.hpp"

using namespace iclr;

namespace {

double one(sqlite3* db, const std::string& sql) {
    Statement st(db, sql);
    EXPECT_TRUE(st.step());
    return st.col_null(0) ? NAN : st.col_double(0);
}

struct Db {
    sqlite3* db = nullptr;
    Db() {
        sqlite3_open(":memory:", &db);
        EXPECT_EQ(stats::register_functions(db), SQLITE_OK);
        exec_sql(db, "CREATE TABLE t(g, x, y); INSERT INTO t VALUES (1,1,5),(1,2,6),(1,3,7),(1,4,8),(1,5,7),"
                     "(2,10,NULL),(3,NULL,1);");
    }
    ~Db() { sqlite3_close(db); }
};

} // namespace

TEST(Stats, StudentTQuantilesMatchTheTables) {
    // scipy.stats.t.ppf(0.975, df) for df = 1, 4, 9, 29 (and the textbook table's 3-decimal values)
    EXPECT_NEAR(stats::student_t_quantile(0.975, 1), 12.706204736174698, 1e-9);
    EXPECT_NEAR(stats::student_t_quantile(0.975, 4), 2.7764451051977987, 1e-9);
    EXPECT_NEAR(stats::student_t_quantile(0.975, 9), 2.2621571627409915, 1e-9);
    EXPECT_NEAR(stats::student_t_quantile(0.975, 29), 2.045229642132703, 1e-9);
    EXPECT_NEAR(stats::student_t_quantile(0.95, 10), 1.812, 5e-4);
    EXPECT_NEAR(stats::student_t_quantile(0.025, 9), -2.2621571627409915, 1e-9); // symmetric
    EXPECT_NEAR(stats::student_t_quantile(0.975, 1e6), 1.959964, 1e-5);          // -> the normal's 1.96
    // Beta quantiles, Clopper-Pearson's bounds: qbeta(0.975, 1, 10) = 1 - 0.025^(1/10); qbeta(0.025, 3, 8),
    // qbeta(0.975, 4, 7) are R's binom.test(3, 10) interval.
    EXPECT_NEAR(stats::beta_quantile(0.975, 1, 10), 1 - std::pow(0.025, 0.1), 1e-12);
    EXPECT_NEAR(stats::beta_quantile(0.025, 3, 8), 0.06673951117, 1e-9);
    EXPECT_NEAR(stats::beta_quantile(0.975, 4, 7), 0.65245285, 1e-8);
    EXPECT_NEAR(stats::beta_quantile(0.5, 2, 2), 0.5, 1e-12);
}

TEST(Stats, MomentsQuantilesAndCorrelationsByHand) {
    std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    EXPECT_DOUBLE_EQ(stats::mean(x), 5.5);
    EXPECT_NEAR(stats::variance(x), 55.0 / 6.0, 1e-12); // sum of squares 82.5 over n - 1 = 9
    EXPECT_DOUBLE_EQ(stats::quantile(x, 0.5), 5.5);
    EXPECT_DOUBLE_EQ(stats::quantile(x, 0.25), 3.25); // numpy's default (linear) interpolation
    EXPECT_TRUE(std::isnan(stats::variance({3.0})));
    EXPECT_EQ(stats::ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
    // x = 1..5, y = 5 6 7 8 7: Pearson 0.8320502943378437 (= 3/sqrt(13)); Spearman over ranks
    // 1 2 3.5 5 3.5 = 0.8207826816681233
    std::vector<double> a{1, 2, 3, 4, 5}, b{5, 6, 7, 8, 7};
    EXPECT_NEAR(stats::pearson(a, b), 3.0 / std::sqrt(13.0), 1e-12);
    EXPECT_NEAR(stats::spearman(a, b), 0.8207826816681233, 1e-12);
    EXPECT_NEAR(stats::spearman(a, {50, 40, 30, 20, 10}), -1.0, 1e-12);
    EXPECT_TRUE(std::isnan(stats::pearson(a, {1, 1, 1, 1, 1}))); // a constant: undefined, not 0
}

TEST(Stats, AggregatesInSqlSkipNullsAndReturnNullWhenUndefined) {
    Db d;
    EXPECT_NEAR(one(d.db, "SELECT stdev(x) FROM t WHERE g = 1"), std::sqrt(2.5), 1e-12);
    EXPECT_NEAR(one(d.db, "SELECT variance(x) FROM t WHERE g = 1"), 2.5, 1e-12);
    EXPECT_NEAR(one(d.db, "SELECT sem(x) FROM t WHERE g = 1"), std::sqrt(0.5), 1e-12);
    // mean 3 +- t(0.975, 4) * sqrt(0.5)
    EXPECT_NEAR(one(d.db, "SELECT ci95_low(x) FROM t WHERE g = 1"), 3 - 2.7764451051977987 * std::sqrt(0.5), 1e-9);
    EXPECT_NEAR(one(d.db, "SELECT ci95_high(x) FROM t WHERE g = 1"), 3 + 2.7764451051977987 * std::sqrt(0.5), 1e-9);
    EXPECT_DOUBLE_EQ(one(d.db, "SELECT median(x) FROM t"), 3.5); // 1 2 3 4 5 10; the NULL is skipped
    EXPECT_DOUBLE_EQ(one(d.db, "SELECT quantile(x, 1.0) FROM t"), 10);
    EXPECT_NEAR(one(d.db, "SELECT pearson(x, y) FROM t"), 3.0 / std::sqrt(13.0), 1e-12); // pairs with a NULL skipped
    EXPECT_NEAR(one(d.db, "SELECT spearman(x, y) FROM t"), 0.8207826816681233, 1e-12);
    EXPECT_TRUE(std::isnan(one(d.db, "SELECT stdev(x) FROM t WHERE g = 2"))); // one value: NULL
    EXPECT_TRUE(std::isnan(one(d.db, "SELECT median(x) FROM t WHERE g = 3")));
    Statement grouped(d.db, "SELECT g, COUNT(*) FROM (SELECT g, stdev(x) s FROM t GROUP BY g) GROUP BY g");
    int groups = 0;
    while (grouped.step())
        ++groups;
    EXPECT_EQ(groups, 3);
}

// trial_config(config_toml): two configs that differ only in a plugin's version are one trial.
TEST(Stats, TrialConfigDropsVersionLinesInSql) {
    Db d;
    exec_sql(d.db, "CREATE TABLE r(c); INSERT INTO r VALUES ('seed = 1\n\n[method]\nplugin = \"noop\"\nversion = "
                   "\"1.0.0\"\nparams = { values = 3 }\n'), ('seed = 1\n\n[method]\nplugin = \"noop\"\nversion = "
                   "\"1.1.0\"\nparams = { values = 3 }\n'), (NULL)");
    Statement st(d.db, "SELECT COUNT(DISTINCT c), COUNT(DISTINCT trial_config(c)), MIN(trial_config(c)), "
                       "SUM(trial_config(c) IS NULL) FROM r");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.col_int(0), 2);
    EXPECT_EQ(st.col_int(1), 1);
    EXPECT_EQ(st.col_text(2), "seed = 1\n\n[method]\nplugin = \"noop\"\nparams = { values = 3 }\n");
    EXPECT_EQ(st.col_int(3), 1);
}
