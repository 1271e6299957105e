// End-to-end: the forgetting-vs-scale sweep in its CI size, its saved query, and the pretraining cache.
#include <gtest/gtest.h>

#include <regex>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

// The seconds in "cache hit: loaded backbone KEY in 0.0123 s" (or "cache miss: built ...").
double cache_seconds(const std::string& log, const std::string& kind) {
    std::smatch m;
    std::regex re("cache " + kind + ": \\w+ backbone [0-9a-f]+ in ([0-9.]+) s");
    return std::regex_search(log, m, re) ? std::stod(m[1]) : -1.0;
}
} // namespace

TEST(Forgetting, CiProfileOfTheDefaultSweepRunsAndItsQueryAnswers) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml";
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "5 trials, 0 already done, 5 to run")) << r.out; // one per arm
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 5);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT arm) FROM runs"), 5);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM accuracy_matrix"), 20);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'forgetting'"), 5);
    EXPECT_EQ(s.sql("SELECT profile FROM sweeps"), "ci");
    // The forgetting metric agrees with the accuracy matrix: a[0][0] - a[1][0].
    EXPECT_EQ(
        s.count("SELECT COUNT(*) FROM runs r WHERE abs((SELECT value FROM metrics WHERE run_id = r.id AND key = "
                "'forgetting') - "
                "((SELECT accuracy FROM accuracy_matrix WHERE run_id = r.id AND after_task = 0 AND task = 0) - "
                "(SELECT accuracy FROM accuracy_matrix WHERE run_id = r.id AND after_task = 1 AND task = 0))) < 1e-12"),
        5);
    // The three metrics share one evaluation per TaskEnd (RunContext::shared_value) and nothing
    // across TaskEnds: avg_accuracy is the mean of the matrix's last row, and that row is not the
    // one measured after task A (a value kept across events would repeat it).
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs r WHERE abs((SELECT value FROM metrics WHERE run_id = r.id AND key = "
                      "'avg_accuracy') - (SELECT avg(accuracy) FROM accuracy_matrix WHERE run_id = r.id AND "
                      "after_task = 1)) < 1e-12"),
              5);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs r WHERE (SELECT group_concat(accuracy) FROM accuracy_matrix WHERE "
                      "run_id = r.id AND after_task = 0) != (SELECT group_concat(accuracy) FROM accuracy_matrix WHERE "
                      "run_id = r.id AND after_task = 1)"),
              5);
    // The in-domain arms pretrain on MNIST, the others on Fashion-MNIST; scratch does not pretrain.
    EXPECT_EQ(s.sql("SELECT group_concat(arm || '=' || json_extract(plugins_json, '$.pretrain.name'), ' ') FROM "
                    "(SELECT * FROM runs ORDER BY arm)"),
              "fmnist-supervised=fashion_mnist fmnist-vicreg=fashion_mnist mnist-supervised=mnist "
              "mnist-vicreg=mnist scratch=fashion_mnist");
    EXPECT_EQ(s.sql("SELECT value FROM attributes a JOIN runs r ON r.id = a.run_id WHERE a.key = 'pretrained' AND "
                    "r.arm = 'scratch'"),
              "none");
    auto q = s.run({"query", slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/results/queries/forgetting_vs_scale.sql"),
                    "--format", "csv", "--sweep", sweep, "--profile", "ci"});
    ASSERT_EQ(q.code, 0) << q.out;
    EXPECT_TRUE(has(q.out, "model,width,params,arm,pretrained,lr,seeds,forgetting,sd,final_acc_a,final_acc_b\n"))
        << q.out;
    EXPECT_TRUE(has(q.out, "mlp,32,26176,scratch,none,0.01,1,")) << q.out;
    EXPECT_TRUE(has(q.out, "mlp,32,26176,fmnist-supervised,supervised,0.01,1,")) << q.out;
    EXPECT_TRUE(has(q.out, "mlp,32,26176,mnist-vicreg,vicreg,0.01,1,")) << q.out;
    auto f = s.run({"query", slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/results/queries/forgetting_frontier.sql"),
                    "--format", "csv", "--sweep", sweep, "--profile", "ci"});
    ASSERT_EQ(f.code, 0) << f.out;
    EXPECT_EQ(std::count(f.out.begin(), f.out.end(), '\n'), 6) << f.out; // header + one row per arm
    // Another variant's runs in the same database are not averaged in: the same answer after them.
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci", "--set", "method.epochs=2"}).code, 0);
    auto again = s.run({"query", slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/results/queries/forgetting_vs_scale.sql"),
                        "--format", "csv", "--sweep", sweep, "--profile", "ci"});
    EXPECT_EQ(again.out, q.out);
}

TEST(Forgetting, PretrainedBackboneIsBuiltOnceAndReusedFromTheCache) {
    Scratch s;
    std::string file = s.write("cache.toml", R"(
[sweep]
name = "cache_reuse"
jobs = 1
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 30
test_per_class = 30
[pretrain]
plugin = "fashion_mnist"
train_per_class = 300
[model]
plugin = "mlp"
width = 64
[method]
plugin = "finetune"
pretrain_epochs = 2
lr = { grid = [0.01, 0.02, 0.05] }
[[metric]]
plugin = "accuracy_matrix"
)");
    auto r = s.run({"run", file});
    ASSERT_EQ(r.code, 0) << r.out;
    // Same pretraining data, model and seed: one key for all three learning rates.
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT value) FROM attributes WHERE key = 'cache_key'"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '0'"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '1'"), 2);
    std::string first = s.sql("SELECT log_tail FROM runs WHERE id = 1");
    std::string second = s.sql("SELECT log_tail FROM runs WHERE id = 2");
    double built = cache_seconds(first, "miss"), loaded = cache_seconds(second, "hit");
    ASSERT_GT(built, 0) << first;
    ASSERT_GE(loaded, 0) << second;
    EXPECT_LT(loaded, built) << "loading the cached backbone should be faster than pretraining it";
    EXPECT_TRUE(has(first, "pretrained (supervised) on fashion_mnist")) << first;
    EXPECT_FALSE(has(second, "pretrained (supervised) on fashion_mnist")) << second;
    // A different seed is a different key: pretrained again, once.
    std::string text = slurp(s.path("cache.toml"));
    text.replace(text.find("jobs = 1"), 8, "jobs = 1\nseeds = [1]");
    auto r2 = s.run({"run", s.write("cache2.toml", text)});
    ASSERT_EQ(r2.code, 0) << r2.out;
    EXPECT_TRUE(has(r2.out, "3 trials, 0 already done, 3 to run")) << r2.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT value) FROM attributes WHERE key = 'cache_key'"), 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '0'"), 2);
}

// A method that does not read [pretrain] (ewc, beside finetune's pretrained arm) leaves it out of its
// trials: its config, parameters and plugins name no [pretrain], so changing [pretrain] reruns the
// pretrained arm's trial and finds ewc's done. A method that reads it without declaring so (the
// fault fixture's `pretrain` mode) fails its trial with the member to add, instead of computing
// from data its key does not name.
TEST(Forgetting, AMethodThatDoesNotPretrainLeavesPretrainOutOfItsTrials) {
    Scratch s;
    const std::string sweep = R"(
[sweep]
name = "ewc_beside"
jobs = 1
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 30
test_per_class = 30
[pretrain]
plugin = "fashion_mnist"
train_per_class = 50
[model]
plugin = "mlp"
width = 16
[method]
plugin = "finetune"
[method.finetune]
pretrain_epochs = 1
[[metric]]
plugin = "forgetting"
[[arm]]
name = "pretrained"
[[arm]]
name = "ewc"
method = { plugin = "ewc" }
)";
    std::string file = s.write("beside.toml", sweep);
    auto r = s.run({"run", file});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "note: method ewc does not read [pretrain]: its trials leave it out")) << r.out;
    std::string alone = sweep.substr(0, sweep.find("[[arm]]")); // ewc alone: nothing reads [pretrain]
    alone.replace(alone.find("plugin = \"finetune\"\n[method.finetune]\npretrain_epochs = 1"), 57, "plugin = \"ewc\"");
    auto plan = s.run({"plan", s.write("alone.toml", alone), "--no-construct"});
    EXPECT_TRUE(has(plan.out, "warning: no method of the sweep reads [pretrain] (ewc): no trial pretrains on it"))
        << plan.out;
    auto of = [&](const std::string& arm, const std::string& what) {
        return s.sql("SELECT " + what + " FROM runs WHERE arm = ?1", {arm});
    };
    EXPECT_EQ(of("ewc", "instr(config_toml, '[pretrain]')"), "0") << of("ewc", "config_toml");
    EXPECT_NE(of("pretrained", "instr(config_toml, '[pretrain]')"), "0");
    EXPECT_EQ(of("ewc", "(SELECT COUNT(*) FROM params p WHERE p.run_id = runs.id AND p.key LIKE 'pretrain.%')"), "0");
    EXPECT_EQ(of("pretrained", "(SELECT COUNT(*) FROM params p WHERE p.run_id = runs.id AND p.key LIKE 'pretrain.%')"),
              s.sql("SELECT COUNT(*) FROM params WHERE key LIKE 'pretrain.%'"));
    EXPECT_EQ(of("ewc", "json_extract(plugins_json, '$.pretrain.name')"), "NULL");
    auto changed = s.run({"run", file, "--set", "pretrain.train_per_class=60"});
    ASSERT_EQ(changed.code, 0) << changed.out;
    EXPECT_TRUE(has(changed.out, "2 trials, 1 already done, 1 to run")) << changed.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE arm = 'ewc'"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE arm = 'pretrained'"), 2);

    std::string undeclared = sweep.substr(0, sweep.find("[model]")) + R"(
[method]
plugin = "fault"
mode = "pretrain"
)";
    auto bad = s.run({"run", s.write("undeclared.toml", undeclared), "--db", s.path("bad.db")});
    EXPECT_NE(bad.code, 0) << bad.out;
    EXPECT_EQ(Scratch::sql_in(s.path("bad.db"), "SELECT status || ': ' || error FROM runs"),
              "failed: method 'fault': it calls pretrain_benchmark() but does not declare that it reads [pretrain]: "
              "add `static constexpr bool reads_pretrain = true;` to its class (sdk/README.md), so that its trials' "
              "keys include the sweep's [pretrain]");
}

// `iclr verify` on the CI-sized sweep: one seed cannot give a CI, so every verdict is "no data";
// what is checked is the structure, the record in the database and byte-for-byte determinism.
TEST(Forgetting, VerifyOnTheCiProfileIsDeterministicAndRecordsEachClaim) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml";
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci"}).code, 0);
    auto first = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(first.code, 0) << first.out; // a claim that does not hold is a finding, not an error
    for (const char* want : {"claim", "kind", "n", "estimate", "95% CI", "verdict",
                             "in-domain supervised-pretrained models forget less as the", "decreasing", "less",
                             "no data (1 seed; a CI needs 2 or more)"})
        EXPECT_TRUE(has(first.out, want)) << want << " missing in\n" << first.out;
    auto second = s.run({"verify", sweep, "--profile", "ci"});
    EXPECT_EQ(first.out, second.out); // the same database gives the same output
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts"), 18);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), 9);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE verdict = 'no data'"), 18);
    // Every arm has its one run: each trend finds one seed, each comparison one pair.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE n = 1"), 18);
    // The runs a verdict used are counted and hashed by their keys (the queries select run_id):
    // one run per trend, two (the arm and scratch) per comparison.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE runs_count = 1 AND length(runs_sha256) = 64"), 10);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE runs_count = 2 AND length(runs_sha256) = 64"), 8);
    auto md = s.run({"verify", sweep, "--profile", "ci", "--format", "markdown"});
    EXPECT_TRUE(has(md.out, "| claim | kind | n | estimate | 95% CI | verdict | source |\n| --- |")) << md.out;
    auto strict = s.run({"verify", sweep, "--profile", "ci", "--strict"});
    EXPECT_EQ(strict.code, 1) << strict.out; // anything but "held" fails under --strict
}

// A trial's key lists its metrics by plugin name: the sweep with its [[metric]] blocks moved is the
// same sweep, every trial of it done, and the worker ran the metrics in that order either way.
// sweeps/tuned/forgetting_vs_scale.toml is the sweep's trials with its claims at each arm's tuned
// learning rate: running it finds every trial done, and on the ci profile, which runs one rate,
// each tuned claim reads the very runs its lr-0.01 twin reads (the same keys hashed).
TEST(Forgetting, TheTunedClaimsReadTheSameTrialsAtEachArmsBestRate) {
    Scratch s;
    const std::string root = ICLR_TEST_SOURCE_DIR;
    const std::string sweep = root + "/sweeps/forgetting_vs_scale.toml",
                      tuned = root + "/sweeps/tuned/forgetting_vs_scale.toml";
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci"}).code, 0);
    auto again = s.run({"run", tuned, "--profile", "ci"});
    ASSERT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "5 trials, 5 already done, 0 to run")) << again.out;
    ASSERT_EQ(s.run({"verify", sweep, "--profile", "ci"}).code, 0);
    auto v = s.run({"verify", tuned, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "method.lr tuned per arm and setting on the highest mean avg_accuracy: 0.01 in 2 run(s)"))
        << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts t JOIN verdicts u ON t.claim = u.claim || ', each at its best lr' "
                      "AND t.runs_sha256 = u.runs_sha256 AND t.sql <> u.sql"),
              9);
    // The CNN sweep's tuned claims rank by acc (it logs no avg_accuracy): they plan, queries included.
    auto cnn =
        s.run({"plan", root + "/sweeps/tuned/forgetting_vs_scale_cnn.toml", "--profile", "ci", "--no-construct"});
    EXPECT_EQ(cnn.code, 0) << cnn.out;
}

TEST(Forgetting, MovingItsMetricBlocksLeavesEveryTrialDone) {
    Scratch s;
    std::string text = slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml");
    const std::string blocks = "[[metric]]\nplugin = \"accuracy_matrix\"\n\n[[metric]]\nplugin = \"forgetting\"\n\n"
                               "[[metric]]\nplugin = \"avg_accuracy\"\n";
    ASSERT_TRUE(has(text, blocks));
    std::string sweep = s.write("forgetting.toml", text);
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci"}).code, 0);
    text.replace(text.find(blocks), blocks.size(),
                 "[[metric]]\nplugin = \"avg_accuracy\"\n\n[[metric]]\nplugin = \"forgetting\"\n\n[[metric]]\nplugin = "
                 "\"accuracy_matrix\"\n");
    std::string moved = s.write("moved.toml", text);
    auto plan = s.run({"plan", moved, "--profile", "ci"});
    EXPECT_TRUE(has(plan.out, "5 of the 5 trial(s) done; `iclr run` would run none")) << plan.out;
    auto run = s.run({"run", moved, "--profile", "ci"});
    EXPECT_TRUE(has(run.out, "0 done, 0 failed, 0 interrupted, 5 skipped (already done)")) << run.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 5);
    // The config lists them by name (accuracy_matrix, avg_accuracy, forgetting), whatever the file said.
    const std::string config = s.sql("SELECT config_toml FROM runs LIMIT 1");
    EXPECT_LT(config.find("\"accuracy_matrix\""), config.find("\"avg_accuracy\"")) << config;
    EXPECT_LT(config.find("\"avg_accuracy\""), config.find("\"forgetting\"")) << config;
    auto v = s.run({"verify", moved, "--profile", "ci"});
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE verdict = 'no data' AND runs_count >= 1"), 9) << v.out;
}

// `iclr table`: a row per run, with what differs between the arms (the pretraining data set, its
// objective and epochs) and the final metrics as columns; per task with --per-task.
TEST(Forgetting, TableHasARowPerRunAndAColumnForWhatDiffers) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml";
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci"}).code, 0);
    auto t = s.run({"table", sweep, "--profile", "ci", "--format", "csv"});
    ASSERT_EQ(t.code, 0) << t.out;
    EXPECT_EQ(t.out.substr(0, t.out.find('\n')), "run_id,arm,status,seed,pretrain,method.pretrain_epochs,"
                                                 "method.pretrain_objective,pretrained,avg_accuracy,forgetting");
    // The scratch run's row, its metrics as the database holds them (CSV writes them round-trip exact).
    std::string id = s.sql("SELECT id FROM runs WHERE arm = 'scratch'");
    std::string row = "\n" + id + ",scratch,done,0,fashion_mnist,0,supervised,none,";
    ASSERT_TRUE(has(t.out, row)) << t.out;
    std::string cells = t.out.substr(t.out.find(row) + row.size());
    cells = cells.substr(0, cells.find('\n'));
    EXPECT_EQ(std::stod(cells.substr(0, cells.find(','))),
              std::stod(s.sql("SELECT printf('%!.17g', value) FROM final_metrics WHERE key = 'avg_accuracy' AND "
                              "run_id = " +
                              id)));
    EXPECT_EQ(std::stod(cells.substr(cells.find(',') + 1)),
              std::stod(s.sql("SELECT printf('%!.17g', value) FROM final_metrics WHERE key = 'forgetting' AND "
                              "run_id = " +
                              id)));
    EXPECT_TRUE(has(t.out, ",mnist-vicreg,done,0,mnist,3,vicreg,vicreg,")) << t.out;
    EXPECT_TRUE(has(t.out, "iclr table: note: metrics per task left out (--per-task: a column per task): acc (2 "
                           "task(s)), forgetting_task (1 task(s))"))
        << t.out;
    auto per_task = s.run({"table", sweep, "--profile", "ci", "--per-task", "--format", "csv"});
    EXPECT_TRUE(has(per_task.out, ",acc[0],acc[1],avg_accuracy,forgetting,forgetting_task[0]\n")) << per_task.out;
    auto all = s.run({"table", sweep, "--profile", "ci", "--all-params", "--format", "csv"});
    EXPECT_TRUE(has(all.out, ",model.width,")) << all.out; // the same in every run: listed with --all-params only
    EXPECT_FALSE(has(t.out, "model.width")) << t.out;
    auto other = s.run({"table", sweep, "--format", "csv"}); // the default profile: none of it is here
    EXPECT_TRUE(has(other.out, "iclr table: note: 0 of the 1050 trial(s) of " + sweep + " as written are in "))
        << other.out;
}

// "At the largest width" is this sweep's largest width: a bigger variant's runs in the same
// database (wider models, as --profile full adds) neither take the comparison over nor leave it
// without data. The claims' MAX ranges over sweep_runs, the trials of the sweep as written.
TEST(Forgetting, TheLargestWidthIsThatOfTheSweepAsWrittenNotOfAnotherVariantInTheDatabase) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale.toml";
    const std::vector<std::string> small = {"--profile", "ci", "--set", "sweep.seeds=2"};
    auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    const std::vector<std::string> wide = with(small, {"--set", "model.width=64"});
    ASSERT_EQ(s.run(with({"run", sweep}, small)).code, 0);
    ASSERT_EQ(s.run(with({"run", sweep}, wide)).code, 0);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT value) FROM params WHERE key = 'model.width'"), 2);
    auto v = s.run(with({"verify", sweep}, small));
    ASSERT_EQ(v.code, 0) << v.out;
    // Each of the four comparisons: two seeds of the arm and two of scratch, at width 32.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE claim LIKE 'at the largest width%' AND n = 2 AND "
                      "runs_count = 4 AND verdict <> 'no data' AND variant NOT LIKE '%model.width%'"),
              4)
        << v.out;
    // The wider variant's verify compares at 64: the rows of other runs are left out, not these.
    auto w = s.run(with({"verify", sweep, "--claim", "at the largest width, in-domain supervised", "--rows"}, wide));
    ASSERT_EQ(w.code, 0) << w.out;
    EXPECT_TRUE(has(w.out, "pretraining forgets less than training from scratch' (4):")) << w.out;
    EXPECT_FALSE(has(w.out, "left out")) << w.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE claim LIKE 'at the largest width, in-domain supervised%' "
                      "AND n = 2 AND runs_count = 4 AND variant LIKE '%model.width=64%'"),
              1);
    // iclr query --sweep: the same table for ad-hoc SQL; without --sweep, a hint instead of a bare error.
    const std::string q = "SELECT group_concat(DISTINCT p.value) || ' ' || COUNT(*) FROM sweep_runs s JOIN params p "
                          "ON p.run_id = s.id AND p.key = 'model.width'";
    auto mine = s.run(with({"query", q, "--format", "csv", "--sweep", sweep}, small));
    EXPECT_EQ(mine.code, 0) << mine.out;
    EXPECT_TRUE(has(mine.out, "\n32 10\n")) << mine.out; // five arms, two seeds, width 32 only
    auto none = s.run({"query", q});
    EXPECT_EQ(none.code, 2);
    EXPECT_TRUE(has(none.out, "no such table: sweep_runs (the trials of a sweep as written: pass --sweep FILE)"))
        << none.out;
}

TEST(Forgetting, ABadClaimQueryIsRefusedWithItsPositionAndRecordsNothing) {
    Scratch s;
    std::string file = s.write("c.toml", R"(
[method]
plugin = "noop"

[[claim]]
name = "typo"
kind = "at_most"
threshold = 1
sql = "SELECT valeu FROM metrics"

[[claim]]
name = "no value column"
kind = "at_most"
threshold = 1
sql = "SELECT step AS x FROM metrics"
)");
    // Found when the sweep is planned or run, before any trial (its queries are tried on an empty
    // database), not by `iclr verify` after the sweep has run.
    for (const char* command : {"plan", "run"}) {
        auto r = s.run({command, file});
        EXPECT_EQ(r.code, 2) << command << ": " << r.out;
        EXPECT_TRUE(has(r.out, "c.toml:9:7: claim 'typo': SQL error: no such column: valeu (did you mean 'value'?)"))
            << r.out;
        EXPECT_TRUE(has(r.out, "c.toml:15:7: claim 'no value column': the query has no value column (its columns: x)"))
            << r.out;
    }
    // Beside a good sweep in one `iclr run`: that file cannot be read, so nothing runs.
    const std::string ok = s.write("ok.toml", "[method]\nplugin = \"noop\"\n");
    auto both = s.run({"run", ok, file});
    EXPECT_EQ(both.code, 2) << both.out;
    EXPECT_TRUE(has(both.out, "c.toml:9:7: claim 'typo'")) << both.out;
    EXPECT_TRUE(has(both.out, "nothing was run: 1 of the 2 sweep file(s) cannot be read")) << both.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    // And by verify, for a sweep edited after its run.
    ASSERT_EQ(s.run({"run", ok}).code, 0);
    auto r = s.run({"verify", file});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(has(r.out, "c.toml:9:7: claim 'typo': SQL error: no such column: valeu")) << r.out;
    EXPECT_TRUE(has(r.out, "c.toml:15:7: claim 'no value column': the query has no value column (its columns: x)"))
        << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts"), 0);
    auto writes =
        s.run({"verify", s.write("w.toml", "[method]\nplugin = \"noop\"\n[[claim]]\nname = \"w\"\n"
                                           "kind = \"at_most\"\nthreshold = 1\nsql = \"DELETE FROM runs\"\n")});
    EXPECT_EQ(writes.code, 2);
    EXPECT_TRUE(has(writes.out, "w.toml:7:7: claim 'w': iclr query is read-only: DELETE is refused")) << writes.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 1);
    // A claim written as keys names parameters: a misspelt one would select nothing, so it is refused.
    auto keys = s.run({"verify", s.write("k.toml", "[method]\nplugin = \"noop\"\n[[claim]]\nname = \"k\"\n"
                                                   "kind = \"at_most\"\nthreshold = 1\nmetric = \"m\"\n"
                                                   "where = { \"method.valuez\" = 10 }\n")});
    EXPECT_EQ(keys.code, 2);
    EXPECT_TRUE(has(keys.out, "k.toml:8:29: claim 'k': where method.valuez: method 'noop' has no parameter 'valuez' "
                              "(did you mean 'values'?)"))
        << keys.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts"), 0);
}

// The CNN version of the sweep has its `ci` profile too: two trials, scratch and pretrained, that
// the saved query answers for.
TEST(Forgetting, CiProfileOfTheCnnSweepRunsAndItsQueryAnswers) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/forgetting_vs_scale_cnn.toml";
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "2 trials, 0 already done, 2 to run")) << r.out;
    auto q = s.run({"query", slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/results/queries/forgetting_vs_scale.sql"),
                    "--format", "csv", "--sweep", sweep, "--profile", "ci"});
    ASSERT_EQ(q.code, 0) << q.out;
    EXPECT_TRUE(has(q.out, "cnn,4,1504,,none,0.1,1,")) << q.out;
    EXPECT_TRUE(has(q.out, "cnn,4,1504,,supervised,0.1,1,")) << q.out;
}
