// `iclr verify SWEEP --against OTHER.db`: the verdicts of two databases of one sweep side by side.
#include <filesystem>
#include <string>

#include "common/file_hash.hpp"
#include "e2e_util.hpp"

namespace iclr::e2e {
namespace {

// Two arms of the noop fixture, whose final `value` is (values - 1) / 2 at every seed: 1 and 2.
const char* kTwoArms = R"(
[sweep]
name = "two_arms"
seeds = 3
[method]
plugin = "noop"
[[arm]]
name = "few"
method = { values = 3 }
[[arm]]
name = "many"
method = { values = 5 }
[[claim]]
name = "fewer values end lower"
kind = "less"
a = "few"
b = "many"
metric = "value"
[[claim]]
name = "the few arm ends at or above 0.5"
kind = "at_least"
where = { arm = "few" }
threshold = 0.5
metric = "value"
)";

// What a user would do with the sqlite3 shell to a copy of a database.
void write_sql(const std::string& db, const std::string& sql) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
    sqlite3_close(h);
}

} // namespace

// The same trials in two databases, one of them holding other values (as another machine's
// kernels or another build would give): each claim's verdict in both, the one that moved named,
// what each database's runs were computed with, exit 1; the other database is only read.
TEST(VerifyAgainst, TwoDatabasesOfOneSweepShowWhichVerdictsMoved) {
    Scratch s;
    std::string file = s.write("two.toml", kTwoArms);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    std::string other = s.path("other.db");
    std::filesystem::copy_file(s.db(), other);
    auto same = s.run({"verify", file, "--against", other});
    EXPECT_EQ(same.code, 0) << same.out;
    EXPECT_TRUE(has(same.out, "the 2 verdict(s) are the same in both")) << same.out;

    // In the other database the few arm ended above the many arm.
    for (const char* table : {"metrics", "final_metrics"})
        write_sql(other,
                  std::string("UPDATE ") + table +
                      " SET value = 9 WHERE key = 'value' AND run_id IN (SELECT id FROM runs WHERE arm = 'few')");
    // ... by another build of the noop plugin at the same version.
    write_sql(other, "UPDATE runs SET plugins_json = json_set(plugins_json, '$.method.sha256', 'deadbeef00')");
    std::string sha = s.sql("SELECT substr(json_extract(plugins_json, '$.method.sha256'), 1, 8) FROM runs LIMIT 1");
    std::string before = sha256_file(other);
    auto moved = s.run({"verify", file, "--against", other});
    EXPECT_EQ(moved.code, 1) << moved.out;
    EXPECT_TRUE(has(moved.out,
                    "this database: " + s.db() + ": 6 of the 6 trial(s) of the sweep as written finished; kernels: "))
        << moved.out;
    EXPECT_TRUE(has(moved.out, "against: " + other + ": 6 of the 6 trial(s)")) << moved.out;
    EXPECT_TRUE(has(moved.out, "1 of 2 verdict(s) differ")) << moved.out;
    EXPECT_TRUE(has(moved.out, "plugin builds that differ: noop 1.1.0 (this database " + sha + ", against deadbeef)\n"))
        << moved.out;
    EXPECT_FALSE(has(same.out, "plugin builds that differ")) << same.out;
    EXPECT_EQ(sha256_file(other), before) << "the other database was written";

    auto json = s.run({"verify", file, "--against", other, "--format", "json"});
    EXPECT_EQ(json.code, 1) << json.out;
    auto field = [&](int i, const char* f) {
        return s.sql(std::string("SELECT json_extract(?1, '$[") + std::to_string(i) + "].\"" + f + "\"')", {json.out});
    };
    EXPECT_EQ(field(0, "claim"), "fewer values end lower");
    EXPECT_EQ(field(0, "verdict"), "held");
    EXPECT_EQ(field(0, "against verdict"), "not held");
    EXPECT_EQ(field(0, "estimate"), "-1");
    EXPECT_EQ(field(0, "against estimate"), "7");
    EXPECT_EQ(field(0, "estimate change"), "-8");
    EXPECT_EQ(field(0, "verdict change"), "not held -> held");
    EXPECT_EQ(field(1, "verdict"), field(1, "against verdict")); // at least 0.5: 1 here, 9 there
    EXPECT_EQ(field(1, "verdict change"), "-");
    EXPECT_FALSE(has(json.out, "this database:")) << "json is the table alone";

    // A database without the sweep's trials as written (another profile here) says so.
    std::string empty = s.path("empty.db");
    ASSERT_EQ(
        s.run({"run", s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n"), "--db", empty})
            .code,
        0);
    auto none = s.run({"verify", file, "--against", empty});
    EXPECT_EQ(none.code, 1) << none.out; // held -> no data
    EXPECT_TRUE(has(none.out, "against: " + empty + ": no finished run of the sweep as written")) << none.out;
    EXPECT_TRUE(has(none.out, "2 of 2 verdict(s) differ")) << none.out;

    // --rows pairs each claim's rows by trial: the few arm's three moved, the many arm's did not.
    auto rows = s.run({"verify", file, "--against", other, "--rows", "--claim", "fewer"});
    EXPECT_EQ(rows.code, 1) << rows.out;
    EXPECT_TRUE(has(rows.out, "rows of claim 'fewer values end lower', paired by trial (6 here, 6 against; 3 differ):"))
        << rows.out;
    EXPECT_TRUE(has(rows.out, "against run_id  value  against value  difference")) << rows.out;
    EXPECT_EQ(occurrences(rows.out, "  1.0    9.0            -8"), 3u) << rows.out;
    auto missing = s.run({"verify", file, "--against", s.path("nowhere.db")});
    EXPECT_EQ(missing.code, 2);
    EXPECT_TRUE(has(missing.out, "iclr: error: --against " + s.path("nowhere.db") + ": no such database"))
        << missing.out;
}

} // namespace iclr::e2e
