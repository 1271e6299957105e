// End-to-end: plugins, plan, run, query and show through the real binary, checked by SQL.
#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <regex>

#include "e2e_util.hpp"
#include "iclr/abi.h"

using namespace iclr::e2e;

namespace {

// The cores this process may run on, as `iclr run` counts them (its affinity mask).
int cores() {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

const char* kNoopSweep = R"(
[sweep]
name = "noop_grid"
seeds = 2
jobs = 2
[method]
plugin = "noop"
values = { grid = [3, 5] }
tag = { range = [0, 4] }
)";

} // namespace

TEST(Cli, PluginsListsWorkingAndBrokenPluginsWithReasons) {
    Scratch s;
    s.set_env("ICLR_PLUGIN_PATH", std::string(ICLR_FIXTURE_OK_DIR) + ":" + ICLR_FIXTURE_BROKEN_DIR);
    auto r = s.run({"plugins"});
    EXPECT_EQ(r.code, 0) << r.out;
    const std::string abi = std::to_string(ICLR_ABI_MAJOR) + "." + std::to_string(ICLR_ABI_MINOR);
    for (const std::string& want : std::vector<std::string>{
             "dataset  mnist", "model    mlp", "method   finetune", "metric   accuracy", "method   noop",
             "broken: ABI mismatch: host provides " + abi + ", plugin was built for 99.0", "broken: no entry point",
             "broken: not a shared library", "broken: init failed: cannot find CUDA device 7",
             "broken: crashed while loading (signal 11 (SIGSEGV))", "broken: bad metadata"})
        EXPECT_TRUE(has(r.out, want)) << "missing '" << want << "' in:\n" << r.out;
    auto one = s.run({"plugins", "methods/noop"});
    EXPECT_EQ(one.code, 0);
    EXPECT_TRUE(has(one.out, "metric rows to log")) << one.out;
    EXPECT_TRUE(has(one.out, "[0, 100000000]")) << one.out;
    auto none = s.run({"plugins", "methods/nope"});
    EXPECT_EQ(none.code, 2);
    EXPECT_TRUE(has(none.out, "no plugin 'methods/nope'")) << none.out;
}

TEST(Cli, PlanCountsTrialsAndWritesNothing) {
    Scratch s;
    auto r = s.run({"plan", s.write("g.toml", kNoopSweep)});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "trials: 16")) << r.out;
    EXPECT_TRUE(has(r.out, "method.values")) << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    // Several files: each planned in turn, an invalid one at its file:line:col, then the count.
    std::string bad = s.write("bad.toml", "[sweep]\nname = \"bad\"\n[method]\nplugin = \"noop\"\nvalue = 3\n");
    std::string copy = s.write("g2.toml", kNoopSweep);
    auto several = s.run({"plan", s.path("g.toml"), bad, copy});
    EXPECT_EQ(several.code, 2) << several.out;
    EXPECT_EQ(occurrences(several.out, "trials: 16"), 2u) << several.out;
    EXPECT_TRUE(has(several.out, "bad.toml:5:9: method 'noop' has no parameter 'value'")) << several.out;
    EXPECT_TRUE(has(several.out, "\n2 of the 3 sweep file(s) valid; not: " + bad + "\n")) << several.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
}

TEST(Cli, BadSweepFailsBeforeAnythingRunsWithFileLineColumn) {
    Scratch s;
    std::string file = s.write("bad.toml", "[method]\nplugin = \"noop\"\nvalue = 3\ntag = { grid = [1, -1] }\n");
    for (const char* cmd : {"plan", "run"}) {
        auto r = s.run({cmd, file});
        EXPECT_EQ(r.code, 2) << r.out;
        EXPECT_TRUE(has(r.out, "bad.toml:3:9: method 'noop' has no parameter 'value' (did you mean 'values'?)"))
            << r.out;
        EXPECT_TRUE(has(r.out, "bad.toml:4:20: method.tag: -1 is out of range")) << r.out;
    }
    EXPECT_FALSE(std::filesystem::exists(s.db())); // nothing written
}

// A command line CLI11 refuses is one line, as every error: a mistyped option gets the nearest one
// the command has (or its options), an unknown command the commands; nothing is run or written.
TEST(Cli, BadCommandLinesAreOneLineWithTheNearestOption) {
    Scratch s;
    std::string file = s.write("g.toml", kNoopSweep);
    auto line = [&](const std::vector<std::string>& args, const std::string& want) {
        auto r = s.run(args);
        EXPECT_EQ(r.code, 2) << r.out;
        EXPECT_EQ(r.out, "iclr: error: " + want + "\n");
    };
    line({"run", file, "--job", "2"}, "iclr run has no option '--job' (did you mean '--jobs'?)");
    line({"run", file, "--max-failure=3"}, "iclr run has no option '--max-failure' (did you mean '--max-failures'?)");
    line({"status", "--format", "json"}, "iclr status has no option '--format' (its options: --help, --profile, "
                                         "--set, --db, --data)");
    line({"show", "1", "2"}, "iclr show: unexpected argument '2' (iclr show --help says what it takes)");
    line({"verfiy", file}, "no command 'verfiy' (did you mean 'verify'?)");
    line({"run"}, "iclr run: no sweeps given (iclr run --help)");
    line({"verify", file, "--format"}, "iclr verify: --format needs a value (iclr verify --help)");
    line({"run", file, "--jobs", "abc"},
         "iclr run: --jobs: 'abc' is not auto or a whole number from 1 to 256 (iclr run --help)");
    line({"cache", "prun"}, "iclr cache: action: 'prun' is not one of list, prune, limit (did you mean 'prune'?)");
    line({"cache", "prune", "--older", "3d"}, "iclr cache has no option '--older' (did you mean '--older-than'?)");
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    auto bare = s.run({});
    EXPECT_EQ(bare.code, 2);
    EXPECT_TRUE(has(bare.out, "Usage: ")) << bare.out; // `iclr` alone: its help
    EXPECT_EQ(s.run({"run", "--help"}).code, 0);
}

TEST(Cli, JobsAutoGivesEachCoreATrialButNoMoreWorkersThanTrials) {
    Scratch s;
    std::string text = kNoopSweep;
    text.replace(text.find("jobs = 2"), 8, "jobs = \"auto\"");
    std::string file = s.write("auto.toml", text);
    EXPECT_TRUE(has(s.run({"plan", file}).out, "jobs: auto"));
    auto r = s.run({"run", file});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("jobs = auto: (\\d+) core\\(s\\), 16 trial\\(s\\) to run -> "
                                                    "\\d+ job\\(s\\)")))
        << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 16);
    // One trial to run: one worker, all cores its threads.
    std::string single = s.write("one.toml", "[sweep]\nname = \"one\"\n[method]\nplugin = \"noop\"\nvalues = 7\n");
    auto one = s.run({"run", single, "--jobs", "auto"});
    ASSERT_EQ(one.code, 0) << one.out;
    EXPECT_TRUE(has(one.out, "1 trial(s) to run -> 1 job(s)")) << one.out;
    EXPECT_EQ(s.run({"run", single, "--jobs", "some"}).code, 2);
}

// cores + 1 equal trials: the last would run alone with the other cores idle; it waits for the
// rest instead and takes every core, its thread count fixed by the plan and recorded.
TEST(Cli, JobsAutoGivesTheLastTrialTheCoresThatWouldIdleBesideIt) {
    int c = cores();
    if (c < 2) GTEST_SKIP() << "one core: nothing idles";
    Scratch s;
    std::string file = s.write("tail.toml", "[sweep]\nname = \"tail\"\nseeds = " + std::to_string(c + 1) +
                                                "\n[method]\nplugin = \"noop\"\nsleep_ms = 1200\n");
    auto r = s.run({"run", file, "--jobs", "auto"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(
        has(r.out, "the last 1 trial(s) run once the others are done, with " + std::to_string(c) + " thread(s) each"))
        << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE threads = 1"), c);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE threads = " + std::to_string(c)), 1);
    // Timestamps are to the second, and a trial sleeps 1.2 s: one started beside the others would
    // start in an earlier second than they finish.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs a JOIN runs b ON a.threads > 1 AND b.threads = 1 "
                      "WHERE a.started_at < b.finished_at"),
              0);
    // Threads given by hand are every trial's.
    auto fixed = s.run({"run", file, "--jobs", "auto", "--threads", "1", "--db", s.path("results/fixed.db")});
    ASSERT_EQ(fixed.code, 0) << fixed.out;
    EXPECT_FALSE(has(fixed.out, "the last")) << fixed.out;
}

TEST(Cli, RunRecordsEveryTrialAndAResumeSkipsFinishedOnes) {
    Scratch s;
    std::string file = s.write("g.toml", kNoopSweep);
    auto r = s.run({"run", file});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "16 trials, 0 already done, 16 to run; 2 job(s)")) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 16);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 8 * 3 + 8 * 5);
    // Workers are reused across trials: at most --jobs processes ran all 16 (how the trials split
    // between them depends on which worker finished loading libtorch first).
    EXPECT_LE(s.count("SELECT COUNT(DISTINCT worker_pid) FROM runs"), 2);
    EXPECT_GE(s.count("SELECT COUNT(DISTINCT worker_pid) FROM runs"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM params WHERE key = 'method.tag'"), 16);
    EXPECT_EQ(s.sql("SELECT json_extract(config_json, '$.method.params.values') FROM runs WHERE id = 1"), "3");
    EXPECT_EQ(s.sql("SELECT length(json_extract(plugins_json, '$.method.sha256')) FROM runs WHERE id = 1"), "64");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE threads = " + std::to_string(std::max(1, cores() / 2))),
              16); // cores / jobs, every trial

    auto again = s.run({"run", file});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_TRUE(has(again.out, "16 trials, 16 already done, 0 to run")) << again.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 16);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 8 * 3 + 8 * 5);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM sweeps"), 2);
}

TEST(Cli, TheLargestTrialsRunFirst) {
    Scratch s;
    // Grid order: values 1, 100, 10 (runs 1, 2, 3). Integer parameters are sizes to the planner:
    // one worker runs 100 first, then 10, then 1.
    std::string file = s.write("order.toml", "[sweep]\nname = \"order\"\n[method]\nplugin = \"noop\"\n"
                                             "values = { grid = [1, 100, 10] }\n");
    auto r = s.run({"run", file, "--jobs", "1"});
    ASSERT_EQ(r.code, 0) << r.out;
    size_t a = r.out.find("run 2 done"), b = r.out.find("run 3 done"), c = r.out.find("run 1 done");
    ASSERT_NE(c, std::string::npos) << r.out;
    EXPECT_LT(a, b) << r.out;
    EXPECT_LT(b, c) << r.out;
}

TEST(Cli, QueryFormatsAndRefusesWrites) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("g.toml", kNoopSweep)}).code, 0);
    auto csv = s.run({"query", "SELECT COUNT(*) AS n FROM runs WHERE status = 'done'", "--format", "csv"});
    EXPECT_EQ(csv.code, 0);
    EXPECT_EQ(csv.out, "n\n16\n");
    auto json =
        s.run({"query", "SELECT key, value FROM params WHERE run_id = 1 AND key = 'method.values'", "-f", "json"});
    EXPECT_EQ(json.out, "[\n {\"key\": \"method.values\", \"value\": 3}\n]\n");
    // A REAL stays a REAL in every format: 1.0, not 1 (pandas would read a column of them as integers).
    auto reals = s.run({"query", "SELECT 1.0 AS a, -2.0 AS b, 0.25 AS c, 3 AS d, 1e300 AS e", "--format", "csv"});
    EXPECT_EQ(reals.out, "a,b,c,d,e\n1.0,-2.0,0.25,3,1e+300\n");
    EXPECT_TRUE(has(s.run({"query", "SELECT 0.0 AS zero"}).out, "0.0")) << "the table format too";
    std::string before = s.sql("SELECT COUNT(*) FROM runs");
    auto del = s.run({"query", "DELETE FROM runs"});
    EXPECT_EQ(del.code, 2);
    EXPECT_TRUE(has(del.out, "iclr query is read-only: DELETE is refused")) << del.out;
    EXPECT_EQ(s.sql("SELECT COUNT(*) FROM runs"), before);
}

TEST(Cli, ShowPrintsConfigMetricsAndProvenance) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("g.toml", kNoopSweep)}).code, 0);
    auto r = s.run({"show", "1"});
    EXPECT_EQ(r.code, 0) << r.out;
    for (const char* want : {"run 1  done  sweep noop_grid", "config:", "[method]", "plugin = \"noop\"",
                             "final metrics", "metric rows: 3", "log tail:", "noop logged 3 values", "libtorch",
                             "rerun it and compare: iclr rerun 1; as a sweep file to edit: iclr show 1 --format sweep"})
        EXPECT_TRUE(has(r.out, want)) << "missing '" << want << "' in:\n" << r.out;
    std::string key = s.sql("SELECT key FROM runs WHERE id = 2");
    EXPECT_TRUE(has(s.run({"show", key.substr(0, 8)}).out, "run 2 ")); // key prefix works too
    EXPECT_EQ(s.run({"show", "999"}).code, 2);
    // Plugins as a table (role, name, version, file, short hash); the JSON output has everything.
    std::string sha = s.sql("SELECT json_extract(plugins_json, '$.method.sha256') FROM runs WHERE id = 1");
    ASSERT_EQ(sha.size(), 64u);
    EXPECT_TRUE(has(r.out, "method  noop")) << r.out;
    EXPECT_TRUE(has(r.out, sha.substr(0, 12))) << r.out;
    EXPECT_FALSE(has(r.out, sha)) << r.out;
    auto j = s.run({"show", "1", "--format", "json"});
    ASSERT_EQ(j.code, 0) << j.out;
    EXPECT_EQ(s.sql("SELECT json_extract(?1, '$.variant') = '' AND json_extract(?1, '$.arm') IS NULL", {j.out}), "1")
        << j.out;
    EXPECT_EQ(s.sql("SELECT json_extract(?1, '$.plugins.method.sha256') = ?2 AND json_extract(?1, '$.status') = "
                    "'done' AND json_extract(?1, '$.metric_rows') = 3",
                    {j.out, sha}),
              "1")
        << j.out;
    // The number columns are JSON numbers (SQLite hands every column over as text); text stays text.
    EXPECT_EQ(s.sql("SELECT json_type(?1, '$.seed') || json_type(?1, '$.threads') || json_type(?1, '$.duration_s') "
                    "|| json_type(?1, '$.sweep_id') || json_type(?1, '$.exit_code') || json_type(?1, '$.key')",
                    {j.out}),
              "integerintegerrealintegernulltext")
        << j.out;
}

TEST(Cli, DiffShowsWhatDiffersAndTheFinalMetricsSideBySide) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("g.toml", kNoopSweep)}).code, 0);
    // Run 1 and the run of the same seed and tag with the other `values`: one parameter differs.
    std::string b = s.sql("SELECT r.id FROM runs r JOIN params v ON v.run_id = r.id AND v.key = 'method.values' "
                          "JOIN params t ON t.run_id = r.id AND t.key = 'method.tag' WHERE r.seed = (SELECT seed FROM "
                          "runs WHERE id = 1) AND t.value = (SELECT value FROM params WHERE run_id = 1 AND key = "
                          "'method.tag') AND v.value <> (SELECT value FROM params WHERE run_id = 1 AND key = "
                          "'method.values')");
    auto r = s.run({"diff", "1", b});
    ASSERT_EQ(r.code, 0) << r.out;
    std::string va = s.sql("SELECT value FROM params WHERE run_id = 1 AND key = 'method.values'"),
                vb = s.sql("SELECT value FROM params WHERE run_id = " + b + " AND key = 'method.values'");
    ASSERT_NE(va, vb);
    EXPECT_TRUE(has(r.out, "run 1 (noop_grid, seed 0) vs run " + b)) << r.out;
    EXPECT_TRUE(has(r.out, "config: 1 differ")) << r.out;
    EXPECT_TRUE(has(r.out, "method.values")) << r.out;
    EXPECT_TRUE(has(r.out, "provenance: 0 differ")) << r.out; // same build, same sweep, same host
    // The final metrics of both with b - a, as the store has them.
    auto j = s.run({"diff", "1", b, "--format", "json"});
    ASSERT_EQ(j.code, 0) << j.out;
    std::string want = s.sql("SELECT printf('%.6g', b.value - a.value) FROM final_metrics a JOIN final_metrics b ON "
                             "b.key = a.key AND b.run_id = " +
                             b + " WHERE a.run_id = 1 ORDER BY a.key LIMIT 1");
    EXPECT_EQ(s.sql("SELECT printf('%.6g', json_extract(?1, '$.final_metrics[0].\"b - a\"'))", {j.out}), want) << j.out;
    EXPECT_EQ(s.sql("SELECT json_extract(?1, '$.a') || ',' || json_extract(?1, '$.b')", {j.out}), "1," + b);
    auto missing = s.run({"diff", "1", "999"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_TRUE(has(missing.out, "no run '999'")) << missing.out;
}

// The kernels are read from the libraries the worker loaded, not from the CPU's flags: OpenBLAS's
// OPENBLAS_CORETYPE and ATen's ATEN_CPU_CAPABILITY pick others (older ones, which every x86-64 CPU
// runs), and the run records what they picked; `iclr diff` and `iclr show` say it.
TEST(Cli, EachRunRecordsTheKernelsItsWorkerComputedWith) {
    Scratch s;
    auto sweep = [&](const std::string& name, int values) { // other values: another trial, not one already done
        return s.write(name + ".toml",
                       "[sweep]\nname = \"" + name +
                           "\"\nseeds = 1\n[method]\nplugin = \"noop\"\nvalues = " + std::to_string(values) + "\n");
    };
    s.set_env("OPENBLAS_CORETYPE", "Prescott");
    s.set_env("ATEN_CPU_CAPABILITY", "default");
    ASSERT_EQ(s.run({"run", sweep("kernels_a", 3)}).code, 0);
    s.set_env("OPENBLAS_CORETYPE", "Nehalem");
    ASSERT_EQ(s.run({"run", sweep("kernels_b", 4)}).code, 0);
    std::string a = s.sql("SELECT kernels FROM runs WHERE id = 1"), b = s.sql("SELECT kernels FROM runs WHERE id = 2");
    EXPECT_TRUE(a.rfind("OpenBLAS 0.", 0) == 0) << a;
    EXPECT_TRUE(has(a, " Prescott, ATen NO AVX")) << a;
    EXPECT_TRUE(has(b, " Nehalem, ATen NO AVX")) << b;
    auto d = s.run({"diff", "1", "2"});
    ASSERT_EQ(d.code, 0) << d.out;
    EXPECT_TRUE(has(d.out, "kernels")) << d.out;
    EXPECT_TRUE(has(d.out, a) && has(d.out, b)) << d.out;
    EXPECT_TRUE(has(s.run({"show", "2"}).out, "kernels " + b));
}

TEST(Cli, RealMnistSweepFillsTheAccuracyMatrix) {
    Scratch s;
    ASSERT_TRUE(std::filesystem::exists(Scratch::data_dir() + "/mnist/train-images-idx3-ubyte"))
        << "MNIST is missing in " << Scratch::data_dir() << ": run `make data`";
    std::string file = s.write("mnist.toml", R"(
[sweep]
name = "tiny_split_mnist"
seeds = 1
jobs = 2
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 100
test_per_class = 50
[model]
plugin = "mlp"
width = { grid = [16, 64] }
[method]
plugin = "finetune"
lr = 0.05
momentum = 0.9
[[metric]]
plugin = "accuracy_matrix"
)");
    auto r = s.run({"run", file});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM accuracy_matrix"), 2 * 4); // a[t][i], 2 tasks x 2 tasks per run
    // Right after training task 0 (digits 0 vs 1), a net separates them well above chance.
    EXPECT_GT(std::stod(s.sql("SELECT MIN(accuracy) FROM accuracy_matrix WHERE after_task = 0 AND task = 0")), 0.9);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'param_count'"), 2);
    EXPECT_GT(s.count("SELECT MAX(CAST(value AS INTEGER)) FROM attributes WHERE key = 'param_count'"),
              s.count("SELECT MIN(CAST(value AS INTEGER)) FROM attributes WHERE key = 'param_count'"));
    EXPECT_EQ(s.sql("SELECT device FROM runs WHERE id = 1"), "cpu");
}

// The statistics aggregates: built into `iclr query`, and loadable where users run SQL themselves.
TEST(Cli, StatisticsWorkInIclrQueryTheSqlite3ShellAndPython) {
    Scratch s;
    ASSERT_EQ(s.run({"run", s.write("g.toml", kNoopSweep)}).code, 0);
    const std::string sql = "SELECT printf('%.6f', stdev(value)) AS sd FROM metrics WHERE key = 'value'";
    auto q = s.run({"query", sql, "--format", "csv"});
    EXPECT_EQ(q.code, 0) << q.out;
    std::string expected =
        s.sql("SELECT printf('%.6f', SQRT(SUM((value - m) * (value - m)) / (COUNT(*) - 1))) FROM "
              "metrics, (SELECT AVG(value) AS m FROM metrics WHERE key = 'value') WHERE key = 'value'");
    EXPECT_EQ(q.out, "sd\n" + expected + "\n");
    std::string ext = std::string(ICLR_BUILD_DIR) + "/lib/iclr_stats";
    std::string shell_out = s.path("shell.txt");
    ASSERT_EQ(
        std::system(("sqlite3 " + s.db() + " '.load " + ext + "' \"" + sql + "\" > " + shell_out + " 2>&1").c_str()), 0)
        << slurp(shell_out);
    EXPECT_EQ(slurp(shell_out), expected + "\n");
    std::string py_out = s.path("py.txt");
    std::string py = "import sqlite3; c = sqlite3.connect('" + s.db() +
                     "'); c.enable_load_extension(True); "
                     "c.load_extension('" +
                     ext + "'); print(c.execute(\\\"" + sql + "\\\").fetchone()[0])";
    ASSERT_EQ(std::system(("/usr/bin/python3 -c \"" + py + "\" > " + py_out + " 2>&1").c_str()), 0) << slurp(py_out);
    EXPECT_EQ(slurp(py_out), expected + "\n");
}

// `iclr sync ''` read "" / "plan.toml" as ./plan.toml and said ": not a Slurm run folder".
TEST(Cli, SyncAndStatusRefuseAnEmptyOrForeignFolderName) {
    Scratch s;
    for (const std::string cmd : {"sync", "status"}) {
        auto empty = s.run({cmd, ""});
        EXPECT_EQ(empty.code, 2) << cmd << ": " << empty.out;
        EXPECT_TRUE(has(empty.out, "an empty folder name: name a Slurm run folder")) << cmd << ": " << empty.out;
        auto foreign = s.run({cmd, s.path("nowhere")});
        EXPECT_EQ(foreign.code, 2) << cmd << ": " << foreign.out;
        EXPECT_TRUE(has(foreign.out, "nowhere: not a Slurm run folder (no plan.toml)")) << cmd << ": " << foreign.out;
    }
}

// `iclr status SWEEP.toml`: the sweep's trials as written in the database, by arm and status,
// before it ran ("not recorded"), after, and for another --set of it; the failures' query.
TEST(Cli, StatusOfASweepFileCountsItsTrialsByArmAndStatus) {
    Scratch s;
    std::string file = s.write("st.toml", "[sweep]\nname = \"st\"\nseeds = 2\njobs = 1\n[method]\nplugin = \"fault\"\n"
                                          "mode = \"ok\"\n[[arm]]\nname = \"good\"\n[[arm]]\nname = \"bad\"\n"
                                          "method = { mode = \"throw\" }\n");
    ASSERT_EQ(s.run({"run", s.write("other.toml", "[method]\nplugin = \"noop\"\n")}).code, 0); // a database exists
    auto before = s.run({"status", file});
    ASSERT_EQ(before.code, 0) << before.out;
    EXPECT_TRUE(has(before.out, "sweep st (" + file + "): 4 trial(s) as written, in " + s.db() + "\n")) << before.out;
    EXPECT_TRUE(has(before.out, "arm   trials  not recorded\n----  ------  ------------\ngood  2       2\n"
                                "bad   2       2\nall   4       4"))
        << before.out;
    auto plan = s.run({"plan", file});
    EXPECT_TRUE(
        has(plan.out, "database " + s.db() + ": 0 of the 4 trial(s) done, 4 not in it; `iclr run` would run 4\n"))
        << plan.out;
    EXPECT_EQ(s.run({"run", file}).code, 1);
    // plan says what a run would find: the failed trials run again, the done ones do not.
    auto replan = s.run({"plan", file});
    EXPECT_TRUE(has(replan.out, "database " + s.db() +
                                    ": 2 of the 4 trial(s) done, 2 failed or unfinished; `iclr run` would run 2\n"))
        << replan.out;
    auto after = s.run({"status", file});
    EXPECT_TRUE(has(after.out, "arm   trials  done  failed\n----  ------  ----  ------\ngood  2       2     0\n"
                               "bad   2       0     2\nall   4       2     2"))
        << after.out;
    EXPECT_TRUE(has(after.out, "failures: iclr query --sweep " + file + " \"SELECT r.id")) << after.out;
    // Alone: every sweep file the database holds runs of, by status, as the user names them here.
    auto all = s.run({"status"});
    EXPECT_EQ(all.code, 0) << all.out;
    EXPECT_TRUE(
        has(all.out, s.db() + ": 5 run(s) of 2 sweep file(s)\nsweep  file        runs  done  failed  last run\n"))
        << all.out;
    EXPECT_TRUE(std::regex_search(all.out, std::regex("\nother  other\\.toml  1     1     0       20\\d\\d-")))
        << all.out;
    EXPECT_TRUE(std::regex_search(all.out, std::regex("\nst     st\\.toml     4     2     2       20\\d\\d-")))
        << all.out;
    auto more = s.run({"status", file, "--set", "sweep.seeds=3"});
    EXPECT_TRUE(has(more.out, "good  3       2     0       1")) << more.out;
    auto two = s.run({"status", file, s.path("other.toml")}); // several sweep files: each in turn
    EXPECT_EQ(two.code, 0) << two.out;
    EXPECT_TRUE(has(two.out, "sweep st (" + file + "): 4 trial(s) as written")) << two.out;
    EXPECT_TRUE(has(two.out, "\n\nsweep other (" + s.path("other.toml") + "): 1 trial(s) as written")) << two.out;
    auto mixed = s.run({"status", file, s.path("results")});
    EXPECT_EQ(mixed.code, 2) << mixed.out;
    EXPECT_TRUE(has(mixed.out, "iclr status takes sweep files or run folders, not both")) << mixed.out;
    auto bad = s.run({"status", "--set", "sweep.seeds=3"});
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_TRUE(has(bad.out, "--profile and --set go with a sweep file")) << bad.out;
}

// `iclr verify --strict` certifies no verdict over part of a sweep: every claim held on two seeds
// of three is still exit 1, with a note saying why; the whole sweep done, exit 0.
TEST(Cli, VerifyStrictFailsWhileTrialsOfTheSweepAreMissing) {
    Scratch s;
    std::string file = s.write("v.toml", "[sweep]\nname = \"v\"\nseeds = 2\n[method]\nplugin = \"noop\"\n"
                                         "[[claim]]\nname = \"one\"\nkind = \"at_least\"\nthreshold = 0\n"
                                         "sql = \"SELECT r.id AS run_id, r.seed, 1.0 AS value FROM runs r\"\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto whole = s.run({"verify", file, "--strict"});
    EXPECT_EQ(whole.code, 0) << whole.out;
    EXPECT_TRUE(has(whole.out, "held")) << whole.out;
    auto part = s.run({"verify", file, "--strict", "--set", "sweep.seeds=3"});
    EXPECT_EQ(part.code, 1) << part.out;
    EXPECT_TRUE(has(part.out, "one    at_least  2")) << part.out; // held on the two seeds done
    EXPECT_TRUE(has(part.out, "2 of the 3 trial(s)")) << part.out;
    EXPECT_TRUE(has(part.out, "iclr verify: --strict: not every trial is done, so exit 1 whatever the verdicts"))
        << part.out;
    EXPECT_EQ(s.run({"verify", file, "--set", "sweep.seeds=3"}).code, 0); // without --strict: a note only
}

// Runs of the sweep's trials at seeds it does not plan (`iclr run --set sweep.seeds=5` into the
// database, then a plain verify) are left out of the verdicts, and verify, table and the report say
// so, with the --set that plans them too.
TEST(Cli, VerifyNamesTheRunsOfItsTrialsAtOtherSeeds) {
    Scratch s;
    std::string file = s.write("v.toml", "[sweep]\nname = \"v\"\nseeds = 2\n[method]\nplugin = \"noop\"\n"
                                         "[[claim]]\nname = \"one\"\nkind = \"at_least\"\nthreshold = 0\n"
                                         "metric = \"value\"\n");
    ASSERT_EQ(s.run({"run", file, "--set", "sweep.seeds=5"}).code, 0);
    auto v = s.run({"verify", file});
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "one    at_least  2")) << v.out; // the two seeds the file plans
    EXPECT_TRUE(has(v.out, "iclr verify: note: the database also holds 3 finished run(s) of these trials at seed(s) "
                           "the sweep as written does not plan (2-4), left out here; `--set sweep.seeds=5` plans "
                           "them too\n"))
        << v.out;
    EXPECT_TRUE(has(v.out, "iclr verify: note: claim 'one': left out 3 row(s): runs of its trials at seeds that " +
                               file + " as written does not plan\n"))
        << v.out;
    auto five = s.run({"verify", file, "--set", "sweep.seeds=5"});
    EXPECT_TRUE(has(five.out, "one    at_least  5")) << five.out;
    EXPECT_FALSE(has(five.out, "does not plan")) << five.out;
    // Another trial (another parameter value) at another seed is not one of them.
    ASSERT_EQ(s.run({"run", file, "--set", "sweep.seeds=[9]", "--set", "method.values=4"}).code, 0);
    ASSERT_EQ(s.run({"run", file, "--set", "sweep.seeds=[9]"}).code, 0);
    auto gap = s.run({"verify", file});
    EXPECT_TRUE(has(gap.out, "holds 4 finished run(s) of these trials at seed(s) the sweep as written does not plan "
                             "(2-4, 9), left out here; `--set 'sweep.seeds=[0, 1, 2, 3, 4, 9]'` plans them too"))
        << gap.out;
    EXPECT_TRUE(
        has(gap.out, "claim 'one': left out 5 row(s) of runs that are not trials of " + file +
                         " as written (another config, seed or profile of it; 4 of them of its trials at seeds it "
                         "does not plan)"))
        << gap.out;
    auto table = s.run({"table", file, "--format", "csv"});
    EXPECT_TRUE(has(table.out, "iclr table: note: the database also holds 4 finished run(s)")) << table.out;
    auto md = s.run({"report", file, "--format", "md"});
    EXPECT_TRUE(has(md.out, "the database also holds 4 finished run(s) of these trials")) << md.out;
}

// An inconclusive claim says how many seeds would decide it (claims/evaluate.hpp; the numbers are
// claims_test's: three seeds measuring 0.031, 0.003 and 0.004 need 9), in verify's notes on
// stderr and in json, and in the report; a decided one says nothing of seeds.
TEST(Cli, VerifyProjectsTheSeedsThatWouldDecideAnInconclusiveClaim) {
    Scratch s;
    std::string file =
        s.write("p.toml", "[sweep]\nname = \"p\"\nseeds = 3\n[method]\nplugin = \"noop\"\n"
                          "[[claim]]\nname = \"spread\"\nkind = \"at_least\"\nthreshold = 0\n"
                          "sql = \"SELECT r.id AS run_id, r.seed, CASE r.seed WHEN 0 THEN 0.031 WHEN 1 THEN 0.003 "
                          "ELSE 0.004 END AS value FROM runs r\"\n"
                          "[[claim]]\nname = \"close\"\nkind = \"at_least\"\nthreshold = 0\n"
                          "sql = \"SELECT r.id AS run_id, r.seed, 0.1 + 0.01 * r.seed AS value FROM runs r\"\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto v = s.run({"verify", file});
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "iclr verify: note: claim 'spread': about 9 seeds would decide it, not 3, if the "
                           "estimate and the seeds' spread stayed as measured"))
        << v.out;
    EXPECT_FALSE(has(v.out, "claim 'close'")) << v.out; // held: no note
    auto json = s.run({"verify", file, "--format", "json"});
    EXPECT_TRUE(has(json.out, "\"notes\": \"about 9 seeds would decide it")) << json.out;
    EXPECT_TRUE(has(json.out, "\"verdict\": \"inconclusive\", \"reason\": \"")) << json.out;
    // A script gets the numbers the verdicts table records, in full (the table prints four digits;
    // spread's mean is 0.012666...), under the table's names; to 1e-15 for SQLite's text-to-REAL.
    std::string array = json.out.substr(0, json.out.find("\n]\n") + 2); // stdout's; the note follows
    for (const char* field : {"estimate", "ci_low", "ci_high"}) {
        std::string f = field, got = "json_extract(j.value, '$." + f + "')";
        std::string sql = "SELECT COUNT(*) FROM verdicts v JOIN json_each(?1) j ON json_extract(j.value, '$.claim') "
                          "= v.claim WHERE v.id > (SELECT MAX(id) - 2 FROM verdicts) AND typeof(" +
                          got + ") = 'real' AND abs(" + got + " - v." + f + ") <= 1e-15 * abs(v." + f + ")";
        EXPECT_EQ(s.sql(sql, {array}), "2") << field << "\n" << json.out;
    }
    auto md = s.run({"report", file, "--format", "md"});
    EXPECT_TRUE(has(md.out, "Note, spread: about 9 seeds would decide it, not 3")) << md.out;
}

// A verdict that moved since the last verify of the same sweep and flags says so, and why: here the
// sweep file went from 2 seeds to 4 (1.000, 1.001, ... against a threshold of 0.999: inconclusive
// at 2, held at 4). Verified again with nothing changed, nothing is said.
TEST(Cli, VerifySaysWhenAVerdictChangedSinceTheLastVerify) {
    Scratch s;
    auto sweep = [](int seeds) {
        return "[sweep]\nname = \"m\"\nseeds = " + std::to_string(seeds) +
               "\n[method]\nplugin = \"noop\"\n[[claim]]\nname = \"near\"\nkind = \"at_least\"\n"
               "threshold = 0.999\nsql = \"SELECT r.id AS run_id, r.seed, 1.0 + 0.001 * r.seed AS value FROM runs "
               "r\"\n";
    };
    std::string file = s.write("m.toml", sweep(2));
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto two = s.run({"verify", file});
    EXPECT_TRUE(has(two.out, "inconclusive")) << two.out;
    EXPECT_FALSE(has(two.out, "at the last verify")) << two.out;
    s.write("m.toml", sweep(4));
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto four = s.run({"verify", file});
    EXPECT_TRUE(has(four.out, "held")) << four.out;
    std::string when = s.sql("SELECT created_at FROM verdicts ORDER BY id LIMIT 1");
    EXPECT_TRUE(has(four.out, "iclr verify: note: claim 'near': the verdict was inconclusive at the last verify (" +
                                  when + "), over other runs (n 2 then)"))
        << four.out;
    EXPECT_FALSE(has(s.run({"verify", file}).out, "at the last verify"));
}

// Every shipped sweep has the `ci` profile the end-to-end tests and `iclr rerun --sweep` checks use.
TEST(Cli, EveryShippedSweepHasACiProfileThatPlans) {
    Scratch s;
    size_t sweeps = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps")) {
        if (e.path().extension() != ".toml") continue;
        ++sweeps;
        auto r = s.run({"plan", e.path().string(), "--profile", "ci", "--no-construct"});
        EXPECT_EQ(r.code, 0) << e.path() << ":\n" << r.out;
    }
    EXPECT_GE(sweeps, 26u);
}
