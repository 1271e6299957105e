// A sweep that compares methods: three arms of different method plugins through plan, run and
// verify, the arm recorded on each run, content keys shared across arms.
#include <gtest/gtest.h>

#include <cctype>
#include <regex>
#include <sstream>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

const char* kThreeMethods = R"(
[sweep]
name = "three_methods"
seeds = 2
jobs = 2
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 20
test_per_class = 20
[model]
plugin = "mlp"
width = 16
[method]
plugin = "finetune"
lr = 0.05
[[metric]]
plugin = "accuracy_matrix"
[[metric]]
plugin = "forgetting"

[[arm]]
name = "finetune"
[[arm]]
name = "replay"
method = { plugin = "replay", buffer_size = { grid = [10, 40] } }
[[arm]]
name = "multitask"
method = { plugin = "multitask" }

[[claim]]
name = "replay forgets less than finetune"
kind = "less"
a = "replay"
b = "finetune"
sql = "SELECT r.id AS run_id, r.seed, r.arm, f.value FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = 'forgetting'"
)";

// The three-method sweep with `claims` in place of its own.
std::string with_claims(const std::string& claims) {
    std::string text = kThreeMethods;
    return text.substr(0, text.find("[[claim]]")) + claims;
}

// A claim's latest verdict, its figures and the runs it used, as one text to compare two claims by.
std::string figures(const Scratch& s, const std::string& claim) {
    return s.sql("SELECT verdict || ' ' || n || ' ' || IFNULL(estimate, '-') || ' ' || IFNULL(ci_low, '-') || ' ' || "
                 "IFNULL(ci_high, '-') || ' ' || IFNULL(runs_count, '-') || ' ' || IFNULL(runs_sha256, '-') FROM "
                 "verdicts WHERE claim = ?1 ORDER BY id DESC LIMIT 1",
                 {claim});
}

} // namespace

TEST(Arms, ThreeMethodPluginsPlanRunAndVerifyInOneSweep) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    auto plan = s.run({"plan", file});
    ASSERT_EQ(plan.code, 0) << plan.out;
    EXPECT_TRUE(has(plan.out, "arm replay\n")) << plan.out;
    EXPECT_TRUE(has(plan.out, "arms: 3 (finetune 2, replay 4, multitask 2); trials in all: 8")) << plan.out;
    EXPECT_TRUE(has(plan.out, "first:  arm=replay method.buffer_size=10 seed=0")) << plan.out;
    auto run = s.run({"run", file});
    ASSERT_EQ(run.code, 0) << run.out;
    EXPECT_TRUE(has(run.out, "8 trials, 0 already done, 8 to run")) << run.out;
    EXPECT_EQ(s.sql("SELECT group_concat(arm || ':' || method || ':' || n, ' ') FROM (SELECT arm, method, COUNT(*) "
                    "AS n FROM runs WHERE status = 'done' GROUP BY arm, method ORDER BY arm)"),
              "finetune:finetune:2 multitask:multitask:2 replay:replay:4");
    auto verify = s.run({"verify", file});
    EXPECT_EQ(verify.code, 0) << verify.out;
    EXPECT_TRUE(has(verify.out, "replay forgets less than finetune  less  2")) << verify.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE n = 2 AND runs_count = 6"), 1);
}

// `iclr table` over arms of different plugins: a column for what differs between the runs that have
// it (batch_size: 64 in finetune and multitask, replay's default 32) and for what an arm states
// (replay's buffer_size), none for a key one plugin has at its default in every run (finetune's
// twenty pretraining and SAM keys: a column each until 2026-12-05), all of them with --all-params;
// `iclr diff` and the run_summary view over the same runs.
TEST(Arms, TableShowsWhatDiffersOrIsStatedNotEachPluginsOwnDefaults) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto t = s.run({"table", file, "--format", "csv"});
    ASSERT_EQ(t.code, 0) << t.out;
    EXPECT_EQ(t.out.substr(0, t.out.find('\n')),
              "run_id,arm,status,seed,method,method.batch_size,method.buffer_size,forgetting");
    EXPECT_TRUE(has(t.out, ",replay,done,1,replay,32,40,")) << t.out;
    EXPECT_TRUE(has(t.out, ",finetune,done,0,finetune,64,,")) << t.out;
    auto all = s.run({"table", file, "--all-params", "--format", "csv"});
    EXPECT_TRUE(has(all.out, ",method.pretrain_objective,")) << all.out;
    // A bool parameter reads as the sweep writes it (the database holds 1 / 0).
    EXPECT_TRUE(has(all.out, ",method.reset_optimizer,")) << all.out;
    EXPECT_TRUE(std::regex_search(all.out, std::regex("\n\\d+,finetune,done,0,.*,true,false,sgd,"))) << all.out;
    // `iclr diff` of a finetune run and a replay run: what both have and differ in as a table, the
    // keys only one run's plugin has as a line per run (finetune's 17 beside replay's buffer_size);
    // JSON keeps a row for each.
    std::string ft = s.sql("SELECT id FROM runs WHERE arm = 'finetune' AND seed = 0"),
                rp = s.sql("SELECT id FROM runs WHERE arm = 'replay' AND seed = 0 ORDER BY id LIMIT 1");
    auto diff = s.run({"diff", ft, rp});
    ASSERT_EQ(diff.code, 0) << diff.out;
    EXPECT_TRUE(has(diff.out, "config: 1 differ, 18 only one run has, ")) << diff.out;
    EXPECT_TRUE(has(diff.out, "method.batch_size  64     32\n")) << diff.out;
    EXPECT_TRUE(has(diff.out, "  only run " + rp + "'s method has: buffer_size = 10\n")) << diff.out;
    EXPECT_TRUE(has(diff.out, "  only run " + ft + "'s method has: contrast = 0.4, crop_min_scale = 0.5, "))
        << diff.out;
    EXPECT_TRUE(has(diff.out, ", reset_optimizer = true, sam_adaptive = false, ")) << diff.out;
    auto json = s.run({"diff", ft, rp, "--format", "json"});
    EXPECT_EQ(s.sql("SELECT json_array_length(?1, '$.config')", {json.out}), "19") << json.out;
    // The summary view names the arm too (it predated arms until schema version 8).
    EXPECT_EQ(s.sql("SELECT group_concat(arm || ':' || n, ' ') FROM (SELECT arm, COUNT(*) AS n FROM run_summary "
                    "GROUP BY arm ORDER BY arm)"),
              "finetune:2 multitask:2 replay:4");
}

// The keys form of a claim (metric, where, group) on real runs: the same verdict as the SQL it
// stands for, from the same runs; a parameter as the group column; a misspelt metric named.
TEST(Arms, AClaimWrittenAsKeysVerifiesAsTheSqlItStandsFor) {
    Scratch s;
    std::string file = s.write("three.toml", std::string(kThreeMethods) + R"(
[[claim]]
name = "replay forgets less than finetune, as keys"
kind = "less"
a = "replay"
b = "finetune"
metric = "forgetting"

[[claim]]
name = "the larger buffer forgets less"
kind = "less"
a = "40"
b = "10"
group = "method.buffer_size"
metric = "forgetting"
where = { arm = "replay", "method.lr" = 0.05 }

[[claim]]
name = "a misspelt metric"
kind = "less"
a = "replay"
b = "finetune"
metric = "forgeting"
)");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto verify = s.run({"verify", file, "--format", "csv"});
    ASSERT_EQ(verify.code, 0) << verify.out;
    EXPECT_EQ(figures(s, "replay forgets less than finetune, as keys"),
              figures(s, "replay forgets less than finetune"));
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT runs_sha256) FROM verdicts WHERE claim LIKE 'replay forgets less%' "
                      "AND runs_count = 6"),
              1); // the same six runs (multitask logs no forgetting)
    // The buffer claim's estimate is mean forgetting at 40 minus at 10, over replay's four runs.
    std::string expected =
        s.sql("SELECT AVG(CASE WHEN p.value = 40 THEN f.value END) - AVG(CASE WHEN p.value = 10 THEN f.value END) "
              "FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = 'forgetting' "
              "JOIN params p ON p.run_id = r.id AND p.key = 'method.buffer_size' WHERE r.arm = 'replay'");
    EXPECT_EQ(s.sql("SELECT estimate FROM verdicts WHERE claim = 'the larger buffer forgets less'"), expected);
    EXPECT_EQ(s.count("SELECT runs_count FROM verdicts WHERE claim = 'the larger buffer forgets less' AND n = 2"), 4);
    EXPECT_TRUE(has(s.sql("SELECT sql FROM verdicts WHERE claim = 'the larger buffer forgets less'"),
                    "JOIN params g ON g.run_id = r.id AND g.key = 'method.buffer_size'"));
    // The metric's key is the one name no schema declares: a misspelt one is a no-data reason.
    EXPECT_EQ(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'a misspelt metric'"),
              "no data: no finished run has a final metric 'forgeting' (did you mean 'forgetting'?)");
    auto table = s.run({"verify", file}); // the table cuts the cell; the reason in full on stderr
    EXPECT_TRUE(has(table.out, "iclr verify: claim 'a misspelt metric': no data: no finished run has a final metric "
                               "'forgeting' (did you mean 'forgetting'?)\n"))
        << table.out;
}

// x as a run attribute (param_count, which the model records when the run starts): the trend
// along it has the same Spearman rho and CI as along the width that sets it (a monotone map keeps
// ranks); a misspelt attribute is a no-data reason that names the nearest one. x as another final
// metric pairs each value with the same run's and task's row: a metric along itself has rho 1 over
// exactly its own rows (8 = 4 runs x 2 tasks of acc; joining a run's tasks crosswise would give 16).
TEST(Arms, ATrendRunsAlongARunAttributeOrAnotherFinalMetric) {
    Scratch s;
    std::string text = std::string(kThreeMethods);
    text.replace(text.find("width = 16"), 10, "width = { grid = [8, 32] }");
    text = text.substr(0, text.find("[[arm]]")) + R"(
[[claim]]
name = "along width"
kind = "decreasing"
metric = "forgetting"
x = "model.width"

[[claim]]
name = "along parameters"
kind = "decreasing"
metric = "forgetting"
x = "param_count"

[[claim]]
name = "a misspelt attribute"
kind = "decreasing"
metric = "forgetting"
x = "param_cont"

[[claim]]
name = "acc along acc"
kind = "increasing"
metric = "acc"
x = { metric = "acc" }

[[claim]]
name = "along a misspelt metric"
kind = "increasing"
metric = "forgetting"
x = { metric = "acc_" }

[[claim]]
name = "along a run's metric at task 1"
kind = "increasing"
metric = "acc"
task = 1
x = { metric = "forgetting" }
)";
    std::string file = s.write("trend.toml", text);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    ASSERT_EQ(s.run({"verify", file}).code, 0);
    EXPECT_EQ(figures(s, "along parameters"), figures(s, "along width"));
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE claim = 'along parameters' AND runs_count = 4 AND n = 2 AND "
                      "estimate < 0 AND sql "
                      "LIKE '%JOIN attributes px ON px.run_id = r.id AND px.key = ''param_count''%'"),
              1);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT value) FROM attributes WHERE key = 'param_count'"), 2);
    EXPECT_EQ(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'a misspelt attribute'"),
              "no data: no finished run has an attribute 'param_cont' (did you mean 'param_count'?)");
    EXPECT_EQ(s.sql("SELECT n || ' ' || estimate || ' ' || runs_count FROM verdicts WHERE claim = 'acc along acc'"),
              "2 1.0 4");
    auto rows = s.run({"verify", file, "--claim", "acc along acc", "--rows"});
    EXPECT_TRUE(has(rows.out, "rows of claim 'acc along acc' (8):")) << rows.out;
    EXPECT_EQ(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'along a misspelt metric'"),
              "no data: no finished run has a final metric 'acc_' (did you mean 'acc'?)");
    // x's row is the value's task's: 'forgetting' is one per run (task NULL), never task 1's.
    EXPECT_TRUE(has(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'along a run''s metric at "
                          "task 1'"),
                    "no data: no finished run has a final metric 'forgetting' for task 1"));
}

// group = "metric": a and b are two final metrics of the same runs, compared paired by seed; the
// same verdict, figures and runs as the query written by hand. A misspelt b is a no-data reason
// naming the nearest key, though a's rows are there.
TEST(Arms, TwoMetricsOfTheSameRunsCompareAsGroups) {
    Scratch s;
    std::string file = s.write("metrics.toml", with_claims(R"(
[[claim]]
name = "keys"
kind = "greater"
group = "metric"
a = "acc"
b = "forgetting_task"
task = 0
where = { arm = "finetune" }

[[claim]]
name = "sql"
kind = "greater"
a = "acc"
b = "forgetting_task"
sql = """
SELECT r.id AS run_id, r.seed, f.key AS grp, f.value FROM runs r
JOIN final_metrics f ON f.run_id = r.id AND f.key IN ('acc', 'forgetting_task') AND f.task = 0
WHERE r.status = 'done' AND r.arm = 'finetune'
"""

[[claim]]
name = "misspelt b"
kind = "greater"
group = "metric"
a = "acc"
b = "forgeting_task"
where = { arm = "finetune" }
)"));
    ASSERT_EQ(s.run({"run", file}).code, 0);
    ASSERT_EQ(s.run({"verify", file}).code, 0);
    EXPECT_EQ(figures(s, "keys"), figures(s, "sql"));
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE claim = 'keys' AND n = 2 AND runs_count = 2"), 1);
    EXPECT_EQ(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'misspelt b'"),
              "no data: no finished run has a final metric 'forgeting_task' (did you mean 'forgetting_task'?)");
}

// A row that averages runs names them all in run_ids (GROUP_CONCAT): the verdict records every
// run it used, not one per row, and a row averaging in a run that is not a trial of the sweep as
// written (a variant's, in the same database) is left out, as a run_id row would be.
TEST(Arms, ARowAveragingRunsNamesThemAllInRunIds) {
    Scratch s;
    std::string file = s.write("avg.toml", with_claims(R"(
[[claim]]
name = "every arm forgets at least nothing, averaged over its seeds"
kind = "at_least"
threshold = -1.0
sql = """
SELECT GROUP_CONCAT(r.id) AS run_ids, AVG(f.value) AS value
FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = 'forgetting'
WHERE r.status = 'done' GROUP BY r.arm
"""
)"));
    ASSERT_EQ(s.run({"run", file}).code, 0);
    ASSERT_EQ(s.run({"verify", file}).code, 0);
    // 2 rows (finetune's 2 runs, replay's 4; multitask trains its tasks at once: no forgetting).
    EXPECT_EQ(s.sql("SELECT n || ' ' || runs_count FROM verdicts"), "2 6");
    ASSERT_EQ(s.run({"run", file, "--set", "method.lr=0.1"}).code, 0);
    auto v = s.run({"verify", file, "--set", "method.lr=0.1"});
    ASSERT_EQ(v.code, 0) << v.out;
    // Each arm's row now averages the first config's runs too: both are left out.
    EXPECT_TRUE(has(v.out, "left out 2 row(s) of runs that are not trials of")) << v.out;
    EXPECT_EQ(s.sql("SELECT verdict FROM verdicts ORDER BY id DESC LIMIT 1"), "no data");
}

// `verify --claim TEXT --rows`: that claim's verdict, then the rows it was computed from (the run
// ids the database holds for it); a text no claim has, or --rows with json, is a one-line error.
TEST(Arms, VerifyPrintsTheRowsOfTheClaimsItIsAskedFor) {
    Scratch s;
    std::string file = s.write("three.toml", std::string(kThreeMethods) + R"(
[[claim]]
name = "finetune forgets more than replay"
kind = "greater"
a = "finetune"
b = "replay"
metric = "forgetting"

[[claim]]
name = "replay's accuracy, every task"
kind = "greater"
a = "replay"
b = "finetune"
metric = "acc"

[[claim]]
name = "replay's accuracy, first task"
kind = "greater"
a = "replay"
b = "finetune"
metric = "acc"
task = 0
)");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto v = s.run({"verify", file, "--claim", "forgets more", "--rows"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "rows of claim 'finetune forgets more than replay' (6):\nrun_id  seed  grp")) << v.out;
    EXPECT_FALSE(has(v.out, "replay forgets less")) << v.out; // the other claim is neither printed nor recorded
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts"), 1);
    std::string ids = s.sql("SELECT group_concat(id, ' ') FROM (SELECT id FROM runs WHERE arm IN ('replay', "
                            "'finetune') ORDER BY id)");
    std::string printed, line;
    std::istringstream table(v.out.substr(v.out.find("run_id  seed  grp")));
    while (std::getline(table, line))
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
            printed += (printed.empty() ? "" : " ") + line.substr(0, line.find(' '));
    EXPECT_EQ(printed, ids);
    // A per-task metric without task = N pools the tasks: said in a note (stderr), not silently.
    auto acc = s.run({"verify", file, "--claim", "accuracy"});
    EXPECT_TRUE(has(acc.out, "iclr verify: note: claim 'replay's accuracy, every task': metric 'acc' is per task (2 "
                             "rows for a run): the verdict pools every task's value; task = N picks one"))
        << acc.out;
    EXPECT_FALSE(has(acc.out, "claim 'replay's accuracy, first task': metric")) << acc.out;
    auto md = s.run({"report", file, "--format", "md"}); // the report says what verify says
    EXPECT_TRUE(has(md.out, "Note, replay's accuracy, every task: metric 'acc' is per task (2 rows for a run)"))
        << md.out;
    EXPECT_FALSE(has(md.out, "Note, replay's accuracy, first task: metric")) << md.out;
    auto none = s.run({"verify", file, "--claim", "no such"});
    EXPECT_EQ(none.code, 2);
    EXPECT_TRUE(has(none.out, "iclr: error: --claim 'no such': no claim's name contains it (claims: 'replay forgets "
                              "less than finetune', 'finetune forgets more than replay', 'replay's accuracy, every "
                              "task', 'replay's accuracy, first task')"))
        << none.out;
    auto json = s.run({"verify", file, "--rows", "--format", "json"});
    EXPECT_EQ(json.code, 2);
    EXPECT_TRUE(has(json.out, "--rows prints a table per claim")) << json.out;
}

// where = { "method.lr" = { argmin = "forgetting" } }: each arm (and replay's each buffer size) at
// its own learning rate, the one whose seeds' mean forgetting is lowest; the rows are those runs,
// found here again by another query (a window over the cells), with the chosen rate as a column,
// and the note says which rates were chosen and that choosing on the metric measured flatters it.
TEST(Arms, AClaimCanCompareEachArmAtItsOwnTunedValue) {
    Scratch s;
    std::string text = kThreeMethods;
    text.replace(text.find("lr = 0.05"), 9, "lr = { grid = [0.01, 0.05, 0.2] }");
    std::string file = s.write("tuned.toml", text + R"(
[[claim]]
name = "tuned, replay forgets less"
kind = "less"
a = "replay"
b = "finetune"
metric = "forgetting"
where = { "method.lr" = { argmin = "forgetting" } }

[[claim]]
name = "tuned on a misspelt metric"
kind = "less"
a = "replay"
b = "finetune"
metric = "forgetting"
where = { "method.lr" = { argmin = "forgeting" } }
)");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    ASSERT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status <> 'done'"), 0); // no rate diverged here
    auto v = s.run({"verify", file, "--claim", "tuned, replay", "--rows"});
    ASSERT_EQ(v.code, 0) << v.out;
    const std::string cell =
        "IFNULL((SELECT value FROM params WHERE run_id = r.id AND key = 'method.buffer_size'), -1)";
    const std::string lr = "(SELECT value FROM params WHERE run_id = r.id AND key = 'method.lr')";
    std::string expected = s.sql(
        "WITH m AS (SELECT r.arm, " + cell + " AS buf, " + lr +
        " AS lr, AVG(f.value) AS mean FROM runs r JOIN "
        "final_metrics f ON f.run_id = r.id AND f.key = 'forgetting' WHERE r.arm IN ('replay', 'finetune') GROUP BY "
        "1, 2, 3), b AS (SELECT arm, buf, lr FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY arm, buf ORDER BY mean, "
        "lr) AS k FROM m) WHERE k = 1) SELECT group_concat(id, ' ') FROM (SELECT r.id FROM runs r JOIN b ON b.arm = "
        "r.arm AND b.buf = " +
        cell + " AND b.lr = " + lr + " ORDER BY r.id)");
    const size_t header = v.out.find("rows of claim 'tuned, replay forgets less' (6):\nrun_id  seed  grp");
    ASSERT_NE(header, std::string::npos) << v.out;
    EXPECT_TRUE(std::regex_search(v.out.substr(header), std::regex("grp +method\\.lr +value\n"))) << v.out;
    std::string printed, line;
    std::istringstream table(v.out.substr(v.out.find('\n', header)));
    while (std::getline(table, line))
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
            printed += (printed.empty() ? "" : " ") + line.substr(0, line.find(' '));
    EXPECT_EQ(printed, expected) << v.out; // two seeds of finetune, and of replay at each buffer size
    EXPECT_EQ(std::count(expected.begin(), expected.end(), ' '), 5) << expected;
    EXPECT_TRUE(has(v.out, "claim 'tuned, replay forgets less': method.lr tuned per arm and setting on the lowest "
                           "mean forgetting: "))
        << v.out;
    EXPECT_TRUE(
        has(v.out, "(chosen on the metric and seeds the claim measures, which flatters each side it picks for)"))
        << v.out;
    EXPECT_EQ(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'tuned on a misspelt metric'"),
              "<no row>"); // --claim picked the other
    s.run({"verify", file});
    EXPECT_EQ(s.sql("SELECT verdict || ': ' || reason FROM verdicts WHERE claim = 'tuned on a misspelt metric'"),
              "no data: no finished run has a final metric 'forgeting', which where's method.lr = { argmin } ranks "
              "by (did you mean 'forgetting'?)");
}

// `iclr verify sweeps/*.toml`: each sweep's verdicts under its name, then a row per sweep verified;
// the sweeps none of whose trials ran in the database, those without claims and those that cannot
// be read are named on stderr, a line per reason; an unreadable one makes the exit status 2 but
// does not stop the others, and --strict counts a sweep not run as not verified. Json and csv
// print one table of them all.
TEST(Arms, VerifyOfSeveralSweepsPrintsEachThenARowPerSweep) {
    Scratch s;
    std::string three = s.write("three.toml", kThreeMethods);
    ASSERT_EQ(s.run({"run", three}).code, 0);
    std::string text = kThreeMethods;
    std::string unrun =
        s.write("unrun.toml", std::regex_replace(text, std::regex("train_per_class = 20"), "train_per_class = 30"));
    std::string no_claims = s.write("no_claims.toml", text.substr(0, text.find("[[claim]]")));
    std::string broken = s.write("broken.toml", "[sweep\nname = 3\n");
    auto v = s.run({"verify", three, unrun, no_claims, broken});
    EXPECT_EQ(v.code, 2) << v.out;
    EXPECT_TRUE(has(v.out, three + ":\nclaim ")) << v.out;
    EXPECT_TRUE(has(v.out, "replay forgets less than finetune  less  2")) << v.out;
    EXPECT_TRUE(
        std::regex_search(v.out, std::regex("\nall sweeps:\nsweep +held +not held +inconclusive +no data +"
                                            "trials done\n[- ]+\n\\S*three\\.toml +[01] +[01] +[01] +0 +8 of 8\n")))
        << v.out;
    EXPECT_TRUE(has(v.out, "iclr verify: note: 1 sweep(s) passed over, none of whose trials has run in ")) << v.out;
    EXPECT_TRUE(has(v.out, ": " + unrun + "\n")) << v.out;
    EXPECT_TRUE(has(v.out, "iclr verify: note: 1 sweep(s) passed over, which state no claims: " + no_claims)) << v.out;
    EXPECT_TRUE(has(v.out, "iclr: error: " + broken + ":1:7: ")) << v.out;
    EXPECT_TRUE(has(v.out, "passed over, which gave an error (above): " + broken)) << v.out;
    EXPECT_FALSE(has(v.out, unrun + ":\n")) << v.out; // no heading, no table for what was passed over
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts"), 1);
    EXPECT_EQ(s.run({"verify", three, unrun}).code, 0);
    EXPECT_EQ(s.run({"verify", three, unrun, "--strict"}).code, 1);
    auto md = s.run({"verify", three, unrun, "--format", "markdown"});
    EXPECT_TRUE(has(md.out, "### `" + three + "`\n\n| claim |")) << md.out;
    EXPECT_TRUE(has(md.out, "\n### all sweeps\n\n| sweep | held | not held | inconclusive | no data | trials done |"))
        << md.out;
    // json and csv: one table of every sweep's verdicts, the sweep first, for a script to read.
    std::string copy = s.write("copy.toml", kThreeMethods);
    auto csv = s.run({"verify", three, unrun, copy, "--format", "csv"});
    EXPECT_EQ(csv.code, 0) << csv.out;
    EXPECT_TRUE(has(csv.out, "sweep,claim,kind,n,estimate,ci_low,ci_high,verdict,reason,source,notes\n" + three +
                                 ",replay forgets less than finetune,less,2,"))
        << csv.out;
    EXPECT_TRUE(has(csv.out, "\n" + copy + ",replay forgets less than finetune,less,2,")) << csv.out;
    EXPECT_FALSE(has(csv.out, "all sweeps")) << csv.out;
    auto json = s.run({"verify", three, unrun, "--format", "json", "--against", s.path("results/iclr.db")});
    EXPECT_EQ(json.code, 2);
    EXPECT_TRUE(has(json.out, "iclr: error: --against with --format json takes one sweep")) << json.out;
    // With several sweeps each note on stderr names its sweep, for a script that reads stderr alone.
    std::string pooled = s.write("pooled.toml", with_claims("[[claim]]\nname = \"replay's accuracy\"\nkind = "
                                                            "\"greater\"\na = \"replay\"\nb = \"finetune\"\n"
                                                            "metric = \"acc\"\n"));
    auto noted = s.run({"verify", three, pooled});
    EXPECT_EQ(noted.code, 0) << noted.out;
    EXPECT_TRUE(
        has(noted.out, "iclr verify: note: " + pooled + ": claim 'replay's accuracy': metric 'acc' is per task"))
        << noted.out;
    auto named = s.run({"verify", three, unrun, "--claim", "no such"});
    EXPECT_EQ(named.code, 2);
    EXPECT_TRUE(has(named.out, "--claim 'no such': no claim of these sweeps has a name that contains it")) << named.out;
}

// Run with --profile ci and verified, reported, tabled or asked about without it: no trial of the
// plain sweep ran, and a note says which variant's runs the database holds, so the reader passes the
// same flags.
TEST(Arms, CommandsNameTheVariantsTheDatabaseHoldsRunsOfWhenNoTrialAsGivenRan) {
    Scratch s;
    auto sweep = [&](const std::string& name) {
        return s.write(name + ".toml", "[sweep]\nname = \"" + name +
                                           "\"\nseeds = 2\n[method]\nplugin = \"noop\"\nvalues = 3\n"
                                           "[profile.ci.method]\nvalues = 2\n[[claim]]\nname = \"some value\"\n"
                                           "kind = \"at_least\"\nthreshold = 0\nmetric = \"value\"\n");
    };
    std::string p = sweep("p"), q = sweep("q");
    ASSERT_EQ(s.run({"run", p, q, "--profile", "ci"}).code, 0);
    auto one = s.run({"verify", p});
    EXPECT_TRUE(has(one.out, "iclr verify: note: the database holds runs of p with --profile ci: pass the same flags "
                             "to verify those\n"))
        << one.out;
    EXPECT_FALSE(has(s.run({"verify", p, "--profile", "ci"}).out, "holds runs of")); // its own variant: no note
    auto several = s.run({"verify", p, q});
    EXPECT_TRUE(
        has(several.out, "iclr verify: note: 2 sweep(s) passed over, none of whose trials as given has run in " +
                             s.db() + ", which holds runs of them with --profile ci: " + p + ", " + q + "\n"))
        << several.out;
    auto status = s.run({"status", p});
    EXPECT_TRUE(has(status.out, "\nthe database holds runs of p with --profile ci: pass the same flags to see those\n"))
        << status.out;
    auto table = s.run({"table", p});
    EXPECT_TRUE(has(table.out, "iclr table: note: the database holds runs of p with --profile ci: pass the same flags "
                               "to see those\n"))
        << table.out;
    EXPECT_FALSE(has(s.run({"table", p, "--profile", "ci"}).out, "holds runs of"));
    auto page = s.run({"report", p, "--format", "md"}); // under the status table
    EXPECT_TRUE(has(page.out, "| not recorded | 2 |\n\nThe database holds runs of p with --profile ci: pass the same "
                              "flags to report those.\n"))
        << page.out;
    auto report = s.run({"report", p, q, "--set", "sweep.seeds=1"});
    EXPECT_TRUE(has(report.out, "iclr report: note: 2 sweep(s) passed over, none of whose trials as given has run in " +
                                    s.db() + ", which holds runs of them with --profile ci: " + p + ", " + q + "\n"))
        << report.out;
}

// An arm renamed in its sweep file renames its runs; nothing is run again.
TEST(Arms, MovingATrialToAnotherArmKeepsItsResult) {
    Scratch s;
    std::string base = "[sweep]\nname = \"s\"\nseeds = 2\n[method]\nplugin = \"noop\"\n";
    ASSERT_EQ(s.run({"run", s.write("s.toml", base + "[[arm]]\nname = \"first\"\n")}).code, 0);
    auto moved = s.run({"run", s.write("s.toml", base + "[[arm]]\nname = \"renamed\"\n")});
    EXPECT_TRUE(has(moved.out, "2 trials, 2 already done, 0 to run")) << moved.out; // same config: no rerun
    EXPECT_EQ(s.sql("SELECT group_concat(DISTINCT arm) FROM runs"), "renamed");
}

// Two sweeps that share trials and name their arms otherwise (a second comparison reusing a
// baseline, a run forked with `iclr show --format sweep`): the second finds the trials done and
// leaves the first's arms as they are, and each sweep's claims, table and status see its own arms.
// (The second used to rename the runs, and the first sweep's claims lost them.)
TEST(Arms, ASweepSharingTrialsWithAnotherLeavesItsArmsAndSeesItsOwn) {
    Scratch s;
    auto sweep = [&](const std::string& name, const std::string& lo, const std::string& hi) {
        return s.write(name + ".toml", "[sweep]\nname = \"" + name +
                                           "\"\nseeds = 2\n[method]\nplugin = \"noop\"\n"
                                           "[[arm]]\nname = \"" +
                                           lo +
                                           "\"\nmethod = { values = 3 }\n"
                                           "[[arm]]\nname = \"" +
                                           hi +
                                           "\"\nmethod = { values = 5 }\n"
                                           "[[claim]]\nname = \"fewer values end lower\"\nkind = \"less\"\na = \"" +
                                           lo + "\"\nb = \"" + hi + "\"\nmetric = \"value\"\n");
    };
    std::string a = sweep("first", "lo", "hi"), b = sweep("second", "few", "many");
    ASSERT_EQ(s.run({"run", a}).code, 0);
    auto second = s.run({"run", b});
    ASSERT_EQ(second.code, 0) << second.out;
    EXPECT_TRUE(has(second.out, "4 trials, 4 already done, 0 to run")) << second.out;
    EXPECT_TRUE(has(second.out, "note: 4 trial(s) already done are runs of sweep first under its arm names"))
        << second.out;
    EXPECT_EQ(s.sql("SELECT group_concat(arm, ',') FROM (SELECT arm FROM runs ORDER BY id)"), "lo,lo,hi,hi");
    for (const auto& [file, lo] : {std::pair{a, std::string("lo")}, std::pair{b, std::string("few")}}) {
        auto v = s.run({"verify", file, "--rows"});
        EXPECT_EQ(v.code, 0) << v.out;
        EXPECT_TRUE(has(v.out, "fewer values end lower  less  2  -1")) << file << ":\n" << v.out;
        EXPECT_TRUE(has(v.out, "  " + lo + "  ")) << file << ":\n" << v.out;
        auto t = s.run({"table", file, "--format", "csv"});
        EXPECT_TRUE(has(t.out, "1," + lo + ",done,0")) << file << ":\n" << t.out;
        EXPECT_TRUE(has(s.run({"status", file}).out, lo)) << file;
    }
    // SQL of the sweep's own that reads runs.arm sees the first sweep's names there: verify says so.
    std::ofstream(b, std::ios::app) << "[[claim]]\nname = \"by sql\"\nkind = \"less\"\na = \"few\"\nb = \"many\"\n"
                                       "sql = \"SELECT r.id AS run_id, r.seed, r.arm, f.value FROM runs r JOIN "
                                       "final_metrics f ON f.run_id = r.id AND f.key = 'value'\"\n"
                                       // SQL naming no arm column, only words that hold the letters
                                       "[[plot]]\ntitle = \"values\"\nsql = \"SELECT r.id AS run_id, "
                                       "f.value AS warmup, 'arms' AS farm FROM runs r JOIN final_metrics f ON "
                                       "f.run_id = r.id\"\nx = \"farm\"\ny = \"warmup\"\n"
                                       // the remedy the note names: this sweep's arm, from sweep_runs
                                       "[[plot]]\ntitle = \"own arms\"\nsql = \"SELECT r.id AS run_id, s.arm, "
                                       "f.value FROM runs r JOIN sweep_runs s ON s.id = r.id JOIN final_metrics f "
                                       "ON f.run_id = r.id\"\nx = \"arm\"\ny = \"value\"\n";
    auto v = s.run({"verify", b});
    EXPECT_TRUE(has(v.out, "note: 4 run(s) of this sweep were recorded by another sweep, whose arm names runs.arm "
                           "keeps, and the SQL of claim 'by sql' reads an arm: JOIN sweep_runs s ON s.id = r.id and "
                           "read s.arm"))
        << v.out;
    EXPECT_FALSE(has(v.out, "plot 'values'")) << v.out;
    EXPECT_FALSE(has(v.out, "plot 'own arms'")) << v.out;
    EXPECT_FALSE(has(s.run({"verify", a}).out, "recorded by another sweep")) << "the first sweep's own runs";

    // `iclr query --sweep A --sweep B`: each sweep's trials, each with its own arm and name; the
    // trials they share are a row of each.
    auto both = s.run({"query", "--sweep", a, "--sweep", b, "--format", "csv",
                       "SELECT s.sweep, s.arm, COUNT(*) AS n FROM sweep_runs s GROUP BY s.sweep, s.arm ORDER BY 1, 2"});
    EXPECT_EQ(both.code, 0) << both.out;
    EXPECT_EQ(both.out, "sweep,arm,n\nfirst,hi,2\nfirst,lo,2\nsecond,few,2\nsecond,many,2\n");
    // `iclr table A B`: each one's table in turn, under its file's name, with its own arms.
    auto tables = s.run({"table", a, b});
    EXPECT_EQ(tables.code, 0) << tables.out;
    EXPECT_TRUE(has(tables.out, a + ":\nrun_id  arm ")) << tables.out;
    EXPECT_TRUE(has(tables.out, ")\n\n" + b + ":\nrun_id  arm ")) << tables.out;
    EXPECT_TRUE(has(tables.out.substr(tables.out.find(b + ":")), "  few  ")) << tables.out;
    auto csvs = s.run({"table", a, b, "--format", "csv"});
    EXPECT_EQ(csvs.code, 2) << csvs.out;
    EXPECT_TRUE(has(csvs.out, "iclr table takes one sweep file with --format csv")) << csvs.out;
    auto same_name = s.run({"query", "--sweep", a, "--sweep", s.write("copy.toml", slurp(a)), "SELECT 1"});
    EXPECT_EQ(same_name.code, 2) << same_name.out;
    EXPECT_TRUE(has(same_name.out, "are both sweep 'first': sweep_runs.sweep could not tell their rows apart"))
        << same_name.out;
}

TEST(Arms, ABaseParameterTheArmsPluginLacksNamesBoth) {
    Scratch s;
    std::string text = std::string(kThreeMethods);
    text.replace(text.find("lr = 0.05"), 9, "lr = 0.05\npretrain_epochs = 0");
    auto r = s.run({"plan", s.write("bad.toml", text)});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(has(r.out, "bad.toml:17:19: arm 'replay': method 'replay' has no parameter 'pretrain_epochs'"))
        << r.out;
    EXPECT_TRUE(has(r.out, "bad.toml:17:19: arm 'multitask': method 'multitask' has no parameter 'pretrain_epochs'"))
        << r.out;
    EXPECT_FALSE(has(r.out, "arm 'finetune'")) << r.out;
    EXPECT_TRUE(has(r.out, "'pretrain_epochs' (finetune has it: what only the arms running finetune take goes in "
                           "[method.finetune])"))
        << r.out;
    // As it says: a table named after the plugin gives its keys to the arms running it, the same
    // trials as the arm stating them itself.
    std::string moved = kThreeMethods, in_arm = kThreeMethods;
    moved.replace(moved.find("lr = 0.05"), 9, "lr = 0.05\n[method.finetune]\npretrain_epochs = 1");
    in_arm.replace(in_arm.find("name = \"finetune\""), 17, "name = \"finetune\"\nmethod = { pretrain_epochs = 1 }");
    auto keys = [&](const std::string& text) {
        auto plan = s.run({"plan", s.write("p.toml", text), "--no-construct"});
        EXPECT_EQ(plan.code, 0) << plan.out;
        std::string out;
        for (size_t at = plan.out.find("first trial key"); at != std::string::npos;
             at = plan.out.find("first trial key", at + 1))
            out += plan.out.substr(at, plan.out.find('\n', at) - at) + "\n";
        return out;
    };
    std::string want = keys(in_arm);
    EXPECT_EQ(std::count(want.begin(), want.end(), '\n'), 3) << want;
    EXPECT_EQ(keys(moved), want);
    EXPECT_NE(keys(kThreeMethods), want); // pretrain_epochs = 1 is in the finetune arm's key
}

// `--set` as a user meets it: plan names the variant and counts its trials; run runs exactly those
// and records the overrides in the sweep's source text; the same command again skips them all;
// verify finds the runs only when given the same flags; a bad --set is one line that quotes it.
TEST(Arms, SetOverridesKeysForPlanRunAndVerify) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    auto with_sets = [](std::vector<std::string> args) {
        for (const char* a : {"--set", "sweep.seeds=1", "--set", "method.lr=0.1"})
            args.push_back(a);
        return args;
    };
    auto plan = s.run(with_sets({"plan", file}));
    ASSERT_EQ(plan.code, 0) << plan.out;
    EXPECT_TRUE(has(plan.out, "sweep three_methods (--set 'sweep.seeds=1' --set 'method.lr=0.1')")) << plan.out;
    EXPECT_TRUE(has(plan.out, "trials in all: 4")) << plan.out;
    EXPECT_TRUE(has(plan.out, "`iclr verify " + file + " --set 'sweep.seeds=1' --set 'method.lr=0.1'` computes"))
        << plan.out;
    auto run = s.run(with_sets({"run", file}));
    ASSERT_EQ(run.code, 0) << run.out;
    EXPECT_TRUE(has(run.out, "4 trials, 0 already done, 4 to run")) << run.out;
    // The next step, with the flags that pick these trials.
    EXPECT_TRUE(has(run.out, "claims: iclr verify " + file + " --set 'sweep.seeds=1' --set 'method.lr=0.1'\n"))
        << run.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done' AND seed = 0 AND "
                      "json_extract(config_json, '$.method.params.lr') = 0.1"),
              4);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM sweeps WHERE source LIKE '%# ---- --set method.lr=0.1 ----%'"), 1);
    auto again = s.run(with_sets({"run", file}));
    EXPECT_TRUE(has(again.out, "4 trials, 4 already done, 0 to run")) << again.out;
    // `iclr show` names the run's arm and the flags its sweep ran with.
    std::string id = s.sql("SELECT MIN(id) FROM runs WHERE arm = 'replay'");
    auto show = s.run({"show", id});
    EXPECT_TRUE(has(show.out, "(#1 --set 'sweep.seeds=1' --set 'method.lr=0.1')")) << show.out;
    EXPECT_TRUE(has(show.out, "arm replay  dataset ")) << show.out;
    auto json = s.run({"show", id, "--format", "json"});
    EXPECT_EQ(s.sql("SELECT json_extract(?1, '$.variant') || ' / ' || json_extract(?1, '$.arm')", {json.out}),
              "--set 'sweep.seeds=1' --set 'method.lr=0.1' / replay")
        << json.out;

    auto as_written = s.run({"verify", file});
    EXPECT_TRUE(has(as_written.out, "no runs of the sweep as written")) << as_written.out;
    // How much of the sweep the verdicts stand on is said: none of it, part of it, or (silent) all.
    EXPECT_TRUE(has(as_written.out, "iclr verify: note: none of the 8 trial(s) of " + file + " as written is done in " +
                                        s.db() + " (`iclr run " + file + "` runs them)"))
        << as_written.out;
    auto verify = s.run(with_sets({"verify", file}));
    EXPECT_EQ(verify.code, 0) << verify.out;
    EXPECT_FALSE(has(verify.out, "no runs of the sweep as written")) << verify.out;
    EXPECT_FALSE(has(verify.out, "trial(s) of")) << verify.out;
    EXPECT_TRUE(has(verify.out, "replay forgets less than finetune  less  1")) << verify.out;
    // Each verdict row names the flags it was computed under; the plain file's say none.
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(DISTINCT variant) FROM verdicts WHERE variant <> ''"),
              "--set 'sweep.seeds=1' --set 'method.lr=0.1'");
    EXPECT_GT(s.count("SELECT COUNT(*) FROM verdicts WHERE variant = ''"), 0);
    // Part of a sweep: the note says how much.
    auto two_seeds = s.run({"verify", file, "--set", "sweep.seeds=2", "--set", "method.lr=0.1"});
    EXPECT_TRUE(has(two_seeds.out, "iclr verify: note: 4 of the 8 trial(s) of " + file + " as written are done in " +
                                       s.db() + "; the verdicts use those (`iclr run " + file +
                                       " --set 'sweep.seeds=2' --set 'method.lr=0.1'` runs the rest)"))
        << two_seeds.out;

    auto bad = s.run({"plan", file, "--set", "method.lrr=0.1"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "--set method.lrr=0.1:1:12: ")) << bad.out;
    EXPECT_TRUE(has(bad.out, "has no parameter 'lrr'")) << bad.out;
    // A bare word is its string; one the plugin does not take is named at its column.
    auto word = s.run({"plan", file, "--set", "arm.finetune.method.optimizer=adam"});
    EXPECT_EQ(word.code, 0) << word.out;
    auto removed = s.run({"plan", file, "--set", "~method.lr"}); // each arm's plugin default then
    EXPECT_EQ(removed.code, 0) << removed.out;
    EXPECT_TRUE(has(removed.out, "(--set '~method.lr')")) << removed.out;
    bad = s.run({"run", file, "--set", "arm.finetune.method.optimizer=adamm"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "--set arm.finetune.method.optimizer=adamm:1:31: arm 'finetune': method.optimizer: "
                             "\"adamm\" is not one of: sgd, adam, adamw, sam"))
        << bad.out;
}

// `--set arm.NAME.SECTION.KEY=VALUE` changes one arm: a key only that arm's plugin has
// (`method.buffer_size=20` is refused: finetune and multitask lack it), recorded like any --set.
TEST(Arms, SetOverridesOneArmsKey) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    auto base = s.run({"plan", file, "--set", "method.buffer_size=20"});
    EXPECT_EQ(base.code, 2) << base.out;
    EXPECT_TRUE(has(base.out, "arm 'finetune': method 'finetune' has no parameter 'buffer_size'")) << base.out;
    const std::vector<std::string> sets{
        "--set", "sweep.seeds=1", "--set", "arm.replay.method.buffer_size=20", "--set", "arm.multitask.method.lr=0.2"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.end(), sets.begin(), sets.end());
        return args;
    };
    auto run = s.run(with({"run", file}));
    ASSERT_EQ(run.code, 0) << run.out;
    // The arm's own grid is replaced by the override: replay runs once, not at 10 and 40.
    EXPECT_TRUE(has(run.out, "3 trials, 0 already done, 3 to run")) << run.out;
    EXPECT_EQ(
        s.sql("SELECT GROUP_CONCAT(arm || ' ' || IFNULL(json_extract(config_json, '$.method.params.buffer_size'), "
              "'-') || ' ' || json_extract(config_json, '$.method.params.lr'), '; ') FROM (SELECT * FROM runs "
              "ORDER BY arm)"),
        "finetune - 0.05; multitask - 0.2; replay 20 0.05");
    auto verify = s.run(with({"verify", file}));
    EXPECT_EQ(verify.code, 0) << verify.out;
    EXPECT_FALSE(has(verify.out, "no runs of the sweep as written")) << verify.out;
    EXPECT_TRUE(has(s.run(with({"run", file})).out, "3 trials, 3 already done, 0 to run"));

    auto bad = s.run({"plan", file, "--set", "arm.replays.method.buffer_size=20"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "--set arm.replays.method.buffer_size=20:1:5: --set arm.replays: the sweep has no arm of "
                             "that name (its arms: finetune, replay, multitask)"))
        << bad.out;
    bad = s.run({"plan", file, "--set", "arm.replay.metric.x=1"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "changes one key of an arm's [dataset], [pretrain], [model] or [method]")) << bad.out;
    bad = s.run({"plan", file, "--set", "arm.finetune.method.buffer_size=20"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "arm 'finetune': method 'finetune' has no parameter 'buffer_size'")) << bad.out;
}

// A run into another database prints its next steps with that --db, quoted for the shell, so that
// they can be copied as they are.
TEST(Arms, TheNextStepsARunPrintsNameItsDatabase) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    std::filesystem::create_directories(s.path("other place"));
    std::string db = s.path("other place/x.db");
    auto run = s.run({"run", file, "--set", "sweep.seeds=1", "--db", db});
    ASSERT_EQ(run.code, 0) << run.out;
    EXPECT_TRUE(has(run.out, "claims: iclr verify " + file + " --set 'sweep.seeds=1' --db '" + db + "'\n")) << run.out;
    auto verify = s.run({"verify", file, "--set", "sweep.seeds=1", "--db", db});
    EXPECT_EQ(verify.code, 0) << verify.out;
    EXPECT_TRUE(has(verify.out, "replay forgets less than finetune  less  1")) << verify.out;
    std::string faults =
        s.write("f.toml", "[sweep]\nname = \"faults\"\n[method]\nplugin = \"fault\"\nmode = \"throw\"\n");
    auto failing = s.run({"run", faults, "--db", db});
    EXPECT_EQ(failing.code, 1) << failing.out;
    EXPECT_TRUE(has(failing.out, "failures: iclr query --db '" + db +
                                     "' \"SELECT id, status, error FROM runs WHERE "
                                     "sweep_id = 2 AND status <> 'done'\"\n"))
        << failing.out;
}

// A sweep finished on another machine (here: OpenBLAS told to use other kernels) pools runs that
// differ by more than their configs; verify and the report say so per claim, naming each set.
TEST(Arms, VerifyNotesAClaimWhoseRunsMixCpuKernelSets) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    s.set_env("ATEN_CPU_CAPABILITY", "default");
    s.set_env("OPENBLAS_CORETYPE", "Prescott");
    auto first = s.run({"run", file, "--set", "sweep.seeds=1"});
    ASSERT_EQ(first.code, 0) << first.out;
    auto alone = s.run({"verify", file, "--set", "sweep.seeds=1", "--format", "json"});
    EXPECT_FALSE(has(alone.out, "sets of CPU kernels")) << alone.out;
    EXPECT_TRUE(has(alone.out, "\"notes\": null")) << alone.out;

    s.set_env("OPENBLAS_CORETYPE", "Nehalem");
    auto rest = s.run({"run", file});
    ASSERT_EQ(rest.code, 0) << rest.out;
    EXPECT_TRUE(has(rest.out, "8 trials, 4 already done, 4 to run")) << rest.out;
    auto v = s.run({"verify", file});
    EXPECT_EQ(v.code, 0) << v.out;
    std::string blas = s.sql("SELECT substr(kernels, 1, instr(kernels, ' P') - 1) FROM runs WHERE seed = 0 LIMIT 1");
    EXPECT_TRUE(has(v.out, "iclr verify: note: claim 'replay forgets less than finetune': 2 sets of CPU kernels "
                           "among its runs (3 on '" +
                               blas + " Nehalem, ATen NO AVX'; 3 on '" + blas + " Prescott, ATen NO AVX'): "))
        << v.out;
    // A script reading json gets the note in the claim's row; the table keeps its columns.
    auto json = s.run({"verify", file, "--format", "json"});
    EXPECT_TRUE(has(json.out, "\"notes\": \"2 sets of CPU kernels among its runs (3 on '" + blas + " Nehalem"))
        << json.out;
    EXPECT_FALSE(has(v.out, "notes")) << v.out;
    auto md = s.run({"report", file, "--format", "md"});
    EXPECT_TRUE(has(md.out, "Note, replay forgets less than finetune: 2 sets of CPU kernels among its runs")) << md.out;
}

// A sweep resumed after iclr was rebuilt pools runs of two builds: verify says so per claim, naming
// each build (here the first invocation's row says another build ran it, as a rebuild would).
TEST(Arms, VerifyNotesAClaimWhoseRunsMixBuildsOfIclr) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    ASSERT_EQ(s.run({"run", file, "--set", "sweep.seeds=1"}).code, 0);
    auto alone = s.run({"verify", file, "--set", "sweep.seeds=1"});
    EXPECT_FALSE(has(alone.out, "builds of iclr")) << alone.out;
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(s.db().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE sweeps SET iclr_version = '0.0.9+0123456789ab' WHERE id = 1", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    ASSERT_EQ(s.run({"run", file}).code, 0);
    std::string build = s.sql("SELECT iclr_version FROM sweeps WHERE id = 2");
    auto v = s.run({"verify", file});
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "iclr verify: note: claim 'replay forgets less than finetune': 2 builds of iclr among its "
                           "runs (3 by 0.0.9+0123456789ab; 3 by " +
                               build + ")"))
        << v.out;
}

// Arms running different method plugins take each plugin's defaults for what the sweep does not
// state: finetune's SGD (lr 0.01, no momentum) against si's (0.03, momentum 0.9). plan and run say
// so before anything runs; stating a parameter in the section (or in each arm) takes it off the note.
TEST(Arms, PlanAndRunNameParametersTheArmsLeaveToDifferentDefaults) {
    Scratch s;
    const std::string arms = "[[arm]]\nname = \"finetune\"\n[[arm]]\nname = \"si\"\nmethod = { plugin = \"si\" }\n";
    const std::string base = "[sweep]\nseeds = 1\n[dataset]\nplugin = \"mnist\"\ntasks = [[0, 1], [2, 3]]\n"
                             "train_per_class = 10\ntest_per_class = 10\n[model]\nplugin = \"mlp\"\nwidth = 8\n"
                             "[method]\nplugin = \"finetune\"\n";
    auto plan = s.run({"plan", s.write("u.toml", base + arms), "--no-construct"});
    EXPECT_EQ(plan.code, 0) << plan.out;
    EXPECT_TRUE(has(plan.out, "note: the arms leave 2 parameter(s) to their plugins' defaults, which differ between "
                              "them: method.lr (0.01 in finetune; 0.03 in si), method.momentum (0.0 in finetune; "
                              "0.9 in si); state them in the sweep"))
        << plan.out;
    auto run = s.run({"run", s.write("stated.toml", base + "lr = 0.03\n" + arms)});
    EXPECT_EQ(run.code, 0) << run.out;
    EXPECT_TRUE(has(run.out, "note: the arms leave 1 parameter(s) to their plugins' defaults, which differ between "
                             "them: method.momentum (0.0 in finetune; 0.9 in si)"))
        << run.out;
    auto none = s.run({"plan", s.write("none.toml", base + "lr = 0.03\nmomentum = 0.9\n" + arms), "--no-construct"});
    EXPECT_FALSE(has(none.out, "note: the arms")) << none.out;
    // A default stated is the same trial (its key fills every default in), so stating one in a
    // shipped sweep keeps the runs a database holds.
    auto key = [&](const std::string& name, const std::string& text) {
        auto r = s.run({"plan", s.write(name, text), "--no-construct"});
        return r.out.substr(r.out.find("first trial key"), 48);
    };
    EXPECT_EQ(key("a.toml", base), key("b.toml", base + "lr = 0.01\nmomentum = 0.0\n"));
    EXPECT_NE(key("a.toml", base), key("c.toml", base + "lr = 0.03\n"));
}
