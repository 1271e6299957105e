// --against OTHER.db: `iclr verify` (each claim's verdict in two databases of one sweep) and `iclr
// diff` (a run and the run of the same trial in another database) side by side.
#include <algorithm>
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

// The two-arm sweep run here, and a copy of its database in which the few arm ended at 9 (as another
// machine or a fixed plugin might give) by another build of the noop plugin. Returns the copy.
std::string run_and_copy_with_other_values(Scratch& s, const std::string& file) {
    EXPECT_EQ(s.run({"run", file}).code, 0);
    std::string other = s.path("other.db");
    std::filesystem::copy_file(s.db(), other);
    for (const char* table : {"metrics", "final_metrics"})
        write_sql(other,
                  std::string("UPDATE ") + table +
                      " SET value = 9 WHERE key = 'value' AND run_id IN (SELECT id FROM runs WHERE arm = 'few')");
    write_sql(other, "UPDATE runs SET plugins_json = json_set(plugins_json, '$.method.sha256', 'deadbeef00')");
    return other;
}

} // namespace

// The same trials in two databases, one of them holding other values (as another machine's
// kernels or another build would give): each claim's verdict in both, the one that moved named,
// what each database's runs were computed with, exit 1; the other database is only read.
TEST(VerifyAgainst, TwoDatabasesOfOneSweepShowWhichVerdictsMoved) {
    Scratch s;
    std::string file = s.write("two.toml", kTwoArms);
    std::string other = run_and_copy_with_other_values(s, file);
    std::filesystem::copy_file(s.db(), s.path("same.db"));
    auto same = s.run({"verify", file, "--against", s.path("same.db")});
    EXPECT_EQ(same.code, 0) << same.out;
    EXPECT_TRUE(has(same.out, "the 2 verdict(s) are the same in both")) << same.out;
    EXPECT_FALSE(has(same.out, "plugin builds that differ")) << same.out;

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

// A database made with another version of a plugin holds other trial keys (a key hashes the plugin
// versions): its runs stand for the trials by their plugins, parameters and seed, whatever text of
// the sweep ran them, else (a version that added or dropped a parameter) by the parameters both
// versions have, else (a changed default) by their place in the same sweep text (arm, grid index);
// the versions are named, --rows and iclr diff pair them; a run of another text with other
// parameters is not taken.
TEST(VerifyAgainst, ADatabaseOfAnotherPluginVersionIsComparedTrialByTrial) {
    Scratch s;
    std::string file = s.write("two.toml", kTwoArms);
    std::string other = run_and_copy_with_other_values(s, file);
    // What noop 1.0.0 would have recorded, from a copy of the sweep file with a comment added: its
    // version in every run's plugins and config, so another key for every trial.
    write_sql(other, "UPDATE runs SET key = 'v1-' || key, plugins_json = json_set(plugins_json, "
                     "'$.method.version', '1.0.0'), config_toml = replace(config_toml, '1.1.0', '1.0.0'); "
                     "UPDATE sweeps SET source = source || '#', source_sha256 = 'edited-' || source_sha256");
    auto v = s.run({"verify", file, "--against", other});
    EXPECT_EQ(v.code, 1) << v.out;
    EXPECT_TRUE(has(v.out, "against: " + other + ": 6 of the 6 trial(s) of the sweep as written finished")) << v.out;
    EXPECT_TRUE(has(v.out, "; 6 of its runs stand for their trials by their plugins, parameters and seed: the same "
                           "trials run with other plugin versions\n"))
        << v.out;
    EXPECT_TRUE(has(v.out, "plugin versions that differ: noop (this database 1.1.0, against 1.0.0)\n")) << v.out;
    EXPECT_TRUE(has(v.out, "1 of 2 verdict(s) differ")) << v.out;
    auto rows = s.run({"verify", file, "--against", other, "--rows", "--claim", "fewer"});
    EXPECT_TRUE(has(rows.out, "paired by trial (6 here, 6 against; 3 differ):")) << rows.out;
    EXPECT_EQ(occurrences(rows.out, "  1.0    9.0            -8"), 3u) << rows.out;
    // iclr diff finds the trial's run there the same way, and shows the versions.
    auto d = s.run({"diff", "1", "--against", other});
    EXPECT_EQ(d.code, 0) << d.out;
    EXPECT_TRUE(has(d.out, "(no run there has run 1's key: run 1 there is the same trial (its plugins, parameters "
                           "and seed), run with other plugin versions)\n"))
        << d.out;
    EXPECT_TRUE(has(d.out, "noop 1.1.0 ")) << d.out;
    EXPECT_TRUE(has(d.out, "noop 1.0.0 ")) << d.out;

    // A version before this one added `tag` (at its default 0 here) and after it had a parameter
    // this one dropped, run by another text of the sweep: its runs stand for the trials by the
    // parameters both versions have.
    const std::string params = "params = { keys = 1, sleep_ms = 0, tag = 0, ";
    ASSERT_EQ(Scratch::sql_in(other, "SELECT COUNT(*) FROM runs WHERE instr(config_toml, ?1) > 0", {params}), "6");
    write_sql(other, "UPDATE runs SET config_toml = replace(config_toml, '" + params +
                         "', 'params = { dropped = 1, keys = 1, sleep_ms = 0, ')");
    auto shared = s.run({"verify", file, "--against", other, "--rows", "--claim", "fewer"});
    EXPECT_EQ(shared.code, 1) << shared.out;
    EXPECT_TRUE(has(shared.out, "; 6 of its runs stand for their trials by the parameters both plugin versions have "
                                "(left out: noop.dropped (only in theirs), noop.tag (only in this version, at its "
                                "default)): the same trials run with a version that added or dropped a parameter\n"))
        << shared.out;
    EXPECT_FALSE(has(shared.out, "by their plugins, parameters and seed")) << shared.out;
    EXPECT_EQ(occurrences(shared.out, "  1.0    9.0            -8"), 3u) << shared.out;
    auto d2 = s.run({"diff", "1", "--against", other});
    EXPECT_TRUE(has(d2.out, "(no run there has run 1's key: run 1 there is the same trial by the parameters both "
                            "plugin versions have (left out: noop.dropped (only in theirs), noop.tag (only in this "
                            "version, at its default)), run with a version that added or dropped a parameter)\n"))
        << d2.out;
    // A trial whose new parameter is not at its default is none the older version ran.
    auto tagged = s.run({"verify", file, "--set", "method.tag=5", "--against", other});
    EXPECT_TRUE(has(tagged.out, "against: " + other + ": no finished run of the sweep as written")) << tagged.out;
    // Two runs there with other values of the dropped parameter would both stand for the few arm's
    // seed 0 (the many arm's seed 0 made into one): which one is that trial cannot be told, so neither.
    std::string two = s.path("two_values.db");
    std::filesystem::copy_file(other, two);
    write_sql(two, "UPDATE runs SET config_toml = (SELECT replace(config_toml, 'dropped = 1', 'dropped = 2') FROM "
                   "runs WHERE arm = 'few' AND seed = 0) WHERE arm = 'many' AND seed = 0");
    auto ambiguous = s.run({"verify", file, "--against", two});
    EXPECT_TRUE(has(ambiguous.out, "against: " + two + ": 4 of the 6 trial(s) of the sweep as written finished"))
        << ambiguous.out;
    EXPECT_TRUE(has(ambiguous.out, "; 4 of its runs stand for their trials by the parameters both")) << ambiguous.out;

    // A version with another default (keys 2), run by the same sweep text: no parameter tells the
    // trials apart, so the runs at the trials' places in the sweep (arm, grid index) stand for them.
    write_sql(other, "UPDATE runs SET config_toml = replace(config_toml, 'params = { dropped = 1, keys = 1, "
                     "sleep_ms = 0, ', 'params = { keys = 2, sleep_ms = 0, tag = 0, '); "
                     "UPDATE sweeps SET source = substr(source, 1, length(source) - 1), "
                     "source_sha256 = substr(source_sha256, 8)");
    auto placed = s.run({"verify", file, "--against", other, "--rows", "--claim", "fewer"});
    EXPECT_EQ(placed.code, 1) << placed.out;
    EXPECT_TRUE(has(placed.out, "; 6 of its runs stand for their trials by their place in the sweep (arm, grid "
                                "index): the same sweep text run with other plugin versions\n"))
        << placed.out;
    EXPECT_FALSE(has(placed.out, "by the parameters both")) << placed.out;
    EXPECT_EQ(occurrences(placed.out, "  1.0    9.0            -8"), 3u) << placed.out;
    auto d3 = s.run({"diff", "1", "--against", other});
    EXPECT_TRUE(has(d3.out, "(no run there has run 1's key: run 1 there is the trial at its place in the sweep, arm "
                            "few, grid index 0, run with other plugin versions)\n"))
        << d3.out;

    // Another text of the sweep file as well (an edited axis would move every grid index): nothing.
    write_sql(other, "UPDATE sweeps SET source = source || '#', source_sha256 = 'edited'");
    auto edited = s.run({"verify", file, "--against", other});
    EXPECT_EQ(edited.code, 1) << edited.out;
    EXPECT_TRUE(has(edited.out, "against: " + other + ": no finished run of the sweep as written")) << edited.out;
    EXPECT_TRUE(has(edited.out, "2 of 2 verdict(s) differ")) << edited.out;
}

// A sweep that added a [[metric]]: its trials' other runs, made without it, have other configs and
// keys. A metric reads the training and never moves it (the worker puts libtorch's global generators
// back after every metric, so even one that draws from them leaves the method's draws as they were),
// so those runs stand for the trials, the metric left out, and the rows both have are compared.
TEST(VerifyAgainst, ASweepThatAddedAMetricIsComparedWithItsRunsWithoutIt) {
    Scratch s;
    const std::string before = R"(
[sweep]
name = "draws"
seeds = 3
[method]
plugin = "fault"
mode = "global_draws"
[[claim]]
name = "the method's draws are at least -1"
kind = "at_least"
threshold = -1.0
metric = "draw"
)";
    const std::string added = before + R"(
[[metric]]
plugin = "global_draw"
draws = 3
[[claim]]
name = "the metric's draws are at least -1"
kind = "at_least"
threshold = -1.0
metric = "metric_draw"
)";
    std::string old_file = s.write("before.toml", before), file = s.write("added.toml", added);
    std::string other = s.path("before.db");
    ASSERT_EQ(s.run({"run", old_file, "--db", other}).code, 0);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    // The method drew the same numbers with the metric drawing between its tasks as without it.
    const std::string draws = "SELECT group_concat(value, ' ') FROM (SELECT m.value FROM metrics m JOIN runs r ON "
                              "r.id = m.run_id WHERE m.key = ?1 ORDER BY r.seed, m.step)";
    const std::string here = s.sql(draws, {"draw"});
    EXPECT_EQ(std::count(here.begin(), here.end(), ' '), 8) << here; // 3 seeds x 3 tasks
    EXPECT_EQ(Scratch::sql_in(other, draws, {"draw"}), here);
    EXPECT_EQ(s.sql("SELECT COUNT(*) FROM metrics WHERE key = 'metric_draw'"), "12"); // 3 TaskEnd + End, 3 seeds

    auto v = s.run({"verify", file, "--against", other, "--rows"});
    EXPECT_EQ(v.code, 1) << v.out;
    EXPECT_TRUE(has(v.out, "; 3 of its runs stand for their trials by the plugins and parameters both have (left "
                           "out: metric global_draw (only here)): the same trials run with other metrics\n"))
        << v.out;
    EXPECT_TRUE(has(v.out, "1 of 2 verdict(s) differ")) << v.out;
    EXPECT_TRUE(has(v.out, "rows of claim 'the method's draws are at least -1', paired by trial (3 here, 3 against; "
                           "0 differ"))
        << v.out;
    auto d = s.run({"diff", "1", "--against", other});
    EXPECT_EQ(d.code, 0) << d.out;
    EXPECT_TRUE(has(d.out, "(no run there has run 1's key: run 1 there is the same trial by the plugins and "
                           "parameters both have (left out: metric global_draw (only here)), run with other "
                           "metrics)\n"))
        << d.out;
    // And the other way round: the runs with the metric stand for the trials of the sweep without it.
    auto back = s.run({"verify", old_file, "--db", other, "--against", s.db()});
    EXPECT_EQ(back.code, 0) << back.out;
    EXPECT_TRUE(has(back.out, "(left out: metric global_draw (only in theirs)): the same trials run with other "
                              "metrics\n"))
        << back.out;
    // The method's own parameter changed as well: not the same training, so no run stands for a trial.
    auto moved = s.run({"verify", file, "--set", "method.delay_ms=1", "--against", other});
    EXPECT_TRUE(has(moved.out, "against: " + other + ": no finished run of the sweep as written")) << moved.out;
}

// The worker gives the global generators back around each metric, not only after the event's last:
// two metrics that draw from them draw the same numbers, so neither moves the other's rows, and the
// order they run in (the key's, by plugin name) decides nothing.
TEST(VerifyAgainst, EachMetricDrawsFromTheGlobalGeneratorsAsTheTrainingLeftThem) {
    Scratch s;
    std::string file = s.write("twice.toml", R"(
[sweep]
name = "twice"
seeds = 2
[method]
plugin = "fault"
mode = "global_draws"
[[metric]]
plugin = "global_draw"
draws = 3
[[metric]]
plugin = "global_draw"
draws = 3
)");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    // Per run and event, two rows of metric_draw (one per block), and they are the same draw.
    EXPECT_EQ(s.sql("SELECT COUNT(*) FROM (SELECT run_id, step FROM metrics WHERE key = 'metric_draw' "
                    "GROUP BY run_id, step HAVING COUNT(*) = 2 AND MIN(value) = MAX(value))"),
              "8"); // 2 seeds x (3 TaskEnd + End)
    EXPECT_EQ(s.sql("SELECT COUNT(DISTINCT value) FROM metrics WHERE key = 'metric_draw'"), "8");
}

// `iclr diff RUN --against OTHER.db`: the run of the same trial there (by key), its parameters the
// same, the plugin build and the final value that differ named; a second run id reads that database.
TEST(DiffAgainst, ARunAndItsTrialInAnotherDatabaseSideBySide) {
    Scratch s;
    std::string file = s.write("two.toml", kTwoArms);
    std::string other = run_and_copy_with_other_values(s, file);
    auto d = s.run({"diff", "1", "--against", other});
    EXPECT_EQ(d.code, 0) << d.out;
    EXPECT_TRUE(has(d.out, "run 1 (two_arms, seed 0) vs run 1 of " + other + " (two_arms, seed 0)\n")) << d.out;
    EXPECT_TRUE(has(d.out, "config: 0 differ, ")) << d.out;
    EXPECT_TRUE(has(d.out, "provenance: 1 differ,")) << d.out;
    EXPECT_TRUE(has(d.out, "run 1 (against)")) << d.out;
    EXPECT_TRUE(has(d.out, "deadbeef00")) << d.out;
    EXPECT_TRUE(has(d.out, "value  NULL  1      9                8\n")) << d.out;
    auto json = s.run({"diff", "1", "--against", other, "--format", "json"});
    EXPECT_EQ(s.sql("SELECT json_extract(?1, '$.final_metrics[0].\"b - a\"')", {json.out}), "8") << json.out;
    // A second run id is of the other database: run 4 there is the many arm's, its values 5.
    auto two = s.run({"diff", "1", "4", "--against", other});
    EXPECT_TRUE(has(two.out, "method.values  3      5")) << two.out;

    std::string empty = s.path("empty.db");
    ASSERT_EQ(
        s.run({"run", s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\n"), "--db", empty})
            .code,
        0);
    auto none = s.run({"diff", "1", "--against", empty});
    EXPECT_EQ(none.code, 2) << none.out;
    EXPECT_TRUE(has(none.out, "in " + empty + " (no run of run 1's trial there)")) << none.out;
    auto one = s.run({"diff", "1"});
    EXPECT_EQ(one.code, 2) << one.out;
    EXPECT_TRUE(has(one.out, "iclr diff takes two runs (or one and --against DB")) << one.out;
}

// `iclr query --attach NAME=FILE`: SQL that joins two databases by trial key, the other only read.
TEST(QueryAttach, SqlJoinsTwoDatabasesByTrialAndCannotWriteTheOther) {
    Scratch s;
    std::string file = s.write("two.toml", kTwoArms);
    std::string other = run_and_copy_with_other_values(s, file);
    std::string before = sha256_file(other);
    auto q = s.run({"query", "--attach", "o=" + other,
                    "SELECT COUNT(*) AS moved FROM runs a JOIN o.runs b ON b.key = a.key JOIN final_metrics fa ON "
                    "fa.run_id = a.id AND fa.key = 'value' JOIN o.final_metrics fb ON fb.run_id = b.id AND fb.key = "
                    "fa.key AND fb.task IS fa.task WHERE fa.value IS NOT fb.value",
                    "--format", "csv"});
    EXPECT_EQ(q.code, 0) << q.out;
    EXPECT_EQ(q.out, "moved\n3\n");
    auto w = s.run({"query", "--attach", "o=" + other, "DELETE FROM o.runs"});
    EXPECT_EQ(w.code, 2) << w.out;
    EXPECT_TRUE(has(w.out, "iclr query is read-only")) << w.out;
    EXPECT_EQ(sha256_file(other), before);
    auto bad = s.run({"query", "--attach", other, "SELECT 1"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "--attach '" + other + "': give NAME=FILE")) << bad.out;
    auto main = s.run({"query", "--attach", "main=" + other, "SELECT 1"});
    EXPECT_EQ(main.code, 2) << main.out;
    EXPECT_TRUE(has(main.out, "the name must be an SQL identifier other than main or temp")) << main.out;

    // Made with another version of the plugin, its runs have other keys: trial_config() joins them.
    write_sql(other, "UPDATE runs SET key = 'v1-' || key, config_toml = replace(config_toml, '1.1.0', '1.0.0')");
    const std::string join = "SELECT COUNT(*) FROM runs a JOIN o.runs b ON ";
    auto by_key = s.run({"query", "--attach", "o=" + other, join + "b.key = a.key", "--format", "csv"});
    EXPECT_EQ(by_key.out, "COUNT(*)\n0\n") << by_key.out;
    auto by_config = s.run({"query", "--attach", "o=" + other,
                            join + "trial_config(b.config_toml) = trial_config(a.config_toml) AND b.config_toml != "
                                   "a.config_toml",
                            "--format", "csv"});
    EXPECT_EQ(by_config.out, "COUNT(*)\n6\n") << by_config.out;
}

} // namespace iclr::e2e
