// What a plugin author meets: diverging losses, non-finite values, rebuilt plugins at the same
// version, stale libraries. Checked through the binary and the database.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <utime.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

std::string sweep_with(const std::string& extra) {
    return R"(
[sweep]
name = "div"
jobs = 1
)" + extra +
           R"(
[method]
plugin = "fault"
mode = { grid = ["nan", "ok", "inf_metric"] }
)";
}

std::string of_mode(const Scratch& s, const std::string& column, const std::string& mode) {
    return s.sql("SELECT " + column + " FROM runs WHERE json_extract(config_json, '$.method.params.mode') = '" + mode +
                 "'");
}

// A private copy of the noop fixture, the only one iclr sees: tests change it without touching the
// build's.
std::string own_copy_of_noop(Scratch& s) {
    std::string dir = s.path("myplugins/methods");
    std::filesystem::create_directories(dir);
    std::string lib = dir + "/noop.so";
    std::filesystem::copy_file(std::string(ICLR_FIXTURE_OK_DIR) + "/methods/noop.so", lib);
    // its source folder, as `cmake --install` puts it beside the library
    std::filesystem::copy_file(std::string(ICLR_FIXTURE_OK_DIR) + "/methods/noop.source", dir + "/noop.source");
    s.set_env("ICLR_PLUGIN_PATH", s.path("myplugins"));
    return lib;
}

} // namespace

TEST(PluginAuthor, ANonFiniteLossStopsTheTrialAsDivergedWithItsStep) {
    Scratch s;
    std::string file = s.write("div.toml", sweep_with(""));
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 0) << r.out; // diverging is a result, not a failure of the tool
    EXPECT_TRUE(has(r.out, "2 done, 0 failed, 0 interrupted, 1 diverged")) << r.out;
    EXPECT_TRUE(has(r.out, "diverged after")) << r.out;
    EXPECT_EQ(of_mode(s, "status", "nan"), "diverged");
    EXPECT_EQ(of_mode(s, "diverged_step", "nan"), "3");
    EXPECT_EQ(of_mode(s, "error", "nan"), "loss became nan at step 3");
    // The NaN row is kept, distinguishable from a missing value; nothing after it was logged.
    std::string nan_run = of_mode(s, "id", "nan");
    EXPECT_EQ(s.sql("SELECT quote(value) || ' ' || nonfinite FROM metrics WHERE run_id = " + nan_run + " AND step = 3"),
              "NULL nan");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE run_id = " + nan_run + " AND key = 'finished'"), 0);
    EXPECT_EQ(s.sql("SELECT nonfinite FROM final_metrics WHERE run_id = " + nan_run + " AND key = 'loss'"), "nan");
    auto show = s.run({"show", nan_run});
    EXPECT_TRUE(has(show.out, "diverged at step 3")) << show.out;
    EXPECT_TRUE(has(show.out, "nan")) << show.out;
    // A non-finite value that is not a loss is recorded as such and the trial goes on.
    std::string inf_run = of_mode(s, "id", "inf_metric");
    EXPECT_EQ(of_mode(s, "status", "inf_metric"), "done");
    EXPECT_EQ(s.sql("SELECT (value > 1e308) || '|' || nonfinite FROM metrics WHERE run_id = " + inf_run +
                    " AND key = 'grad_norm' AND step = 2"),
              "1|inf");
    auto json =
        s.run({"query", "SELECT value FROM metrics WHERE run_id = " + inf_run + " AND key = 'grad_norm' AND step = 2",
               "--format", "json"});
    EXPECT_EQ(json.out, "[\n {\"value\": \"inf\"}\n]\n");
    // Diverged is final: a rerun does not repeat it.
    auto again = s.run({"run", file});
    EXPECT_TRUE(has(again.out, "3 trials, 3 already done, 0 to run")) << again.out;
}

TEST(PluginAuthor, OnNonfiniteRecordGoesOnAndStillMarksTheRun) {
    Scratch s;
    std::string file = s.write("div.toml", sweep_with("on_nonfinite = \"record\""));
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(of_mode(s, "status", "nan"), "diverged");
    EXPECT_EQ(of_mode(s, "diverged_step", "nan"), "3");
    EXPECT_TRUE(has(of_mode(s, "error", "nan"), "ran to its end")) << of_mode(s, "error", "nan");
    EXPECT_EQ(
        s.count("SELECT COUNT(*) FROM metrics WHERE run_id = " + of_mode(s, "id", "nan") + " AND key = 'finished'"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE run_id = " + of_mode(s, "id", "nan") + " AND key = 'loss'"),
              4);
}

// A loss that turns NaN between two logged values (a 20-step task, log_every 50) never reached
// RunContext::log: the trial ended `done` on NaN weights with chance accuracy, and claims counted
// it. The worker now checks the learner's trainable tensors at each event, before the metrics.
TEST(PluginAuthor, NanWeightsWithNoLossLoggedStillEndTheTrialDiverged) {
    Scratch s;
    std::string file =
        s.write("w.toml", "[sweep]\nname = \"w\"\n[method]\nplugin = \"fault\"\nmode = \"nan_weights\"\n");
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "diverged after")) << r.out;
    EXPECT_EQ(s.sql("SELECT status || '|' || diverged_step || '|' || error FROM runs"),
              "diverged|20|the trainable parameters became non-finite at step 20");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'finished'"), 0);
    // Recorded and gone on: found once, the trial runs to its end and is still marked.
    auto record = s.run({"run", file, "--set", "sweep.on_nonfinite=record", "--db", s.path("r.db")});
    EXPECT_EQ(record.code, 0) << record.out;
    EXPECT_EQ(Scratch::sql_in(s.path("r.db"), "SELECT status || '|' || diverged_step FROM runs"), "diverged|20");
    EXPECT_EQ(Scratch::sql_in(s.path("r.db"), "SELECT COUNT(*) FROM metrics WHERE key = 'finished'"), "1");
}

// A claim over trials some of which diverged is decided by the others: verify says which diverged.
TEST(PluginAuthor, VerifyNamesTheDivergedTrialsAClaimHasNoValueFrom) {
    Scratch s;
    std::string file = s.write("d.toml", R"([sweep]
name = "d"
seeds = 2
jobs = 1
[method]
plugin = "fault"
mode = { grid = ["ok", "nan"] }
[[claim]]
name = "every run finishes"
kind = "at_least"
threshold = 1.0
metric = "finished"
)");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    auto v = s.run({"verify", file});
    EXPECT_EQ(v.code, 0) << v.out;
    std::string ids = s.sql("SELECT GROUP_CONCAT(id, ', ') FROM (SELECT id FROM runs WHERE status = 'diverged' ORDER "
                            "BY id)");
    EXPECT_TRUE(has(v.out, "iclr verify: note: 2 trial(s) of " + file + " as written diverged (run " + ids +
                               ") and give the claims no value: a verdict rests on the runs that did not\n"))
        << v.out;
    EXPECT_TRUE(has(v.out, "every run finishes  at_least  2 ")) << v.out; // the two that finished
    auto md = s.run({"report", file, "--format", "md"});                  // the report says it too
    EXPECT_TRUE(has(md.out, "Note: 2 trial(s) of " + file + " as written diverged (run " + ids + ")")) << md.out;
}

TEST(PluginAuthor, OnNonfiniteTakesOnlyStopOrRecord) {
    Scratch s;
    auto r = s.run({"plan", s.write("bad.toml", sweep_with("on_nonfinite = \"ignore\""))});
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.out, "bad.toml:5:16: on_nonfinite must be \"stop\"")) << r.out;
}

// A rebuilt plugin at the same version: resume says so instead of silently keeping old results.
TEST(PluginAuthor, ADifferentBuildAtTheSameVersionIsNamedAndRerunOnRequest) {
    Scratch s;
    std::string lib = own_copy_of_noop(s);
    std::string file = s.write("n.toml", "[method]\nplugin = \"noop\"\ntag = { range = [0, 3] }\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    { // "rebuild": trailing bytes change the library's SHA-256, not what it does
        std::ofstream out(lib, std::ios::app | std::ios::binary);
        out << "rebuilt";
    }
    auto r = s.run({"run", file});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "note: 3 trial(s) were run with another build of noop 1.1.0 (its library's SHA-256 "
                           "differs): --rerun-changed reruns them; bump a plugin's version to keep both"))
        << r.out;
    EXPECT_TRUE(has(r.out, "3 trials, 3 already done, 0 to run")) << r.out;
    auto rerun = s.run({"run", file, "--rerun-changed"});
    EXPECT_TRUE(has(rerun.out, "rerunning 3 trial(s) that another build of noop 1.1.0 produced")) << rerun.out;
    EXPECT_TRUE(has(rerun.out, "note: cached stages")) << rerun.out; // what a rerun does not redo
    EXPECT_TRUE(has(rerun.out, "3 trials, 0 already done, 3 to run")) << rerun.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 3);
    EXPECT_EQ(s.count("SELECT SUM(attempts) FROM runs"), 6);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics"), 30); // the first build's rows were replaced
    auto quiet = s.run({"run", file});
    EXPECT_FALSE(has(quiet.out, "another build")) << quiet.out;
    EXPECT_FALSE(has(quiet.out, "cached stages")) << quiet.out;
    EXPECT_FALSE(has(r.out, "another file")) << r.out; // the same file, rebuilt
    // Another checkout's build (here: the library copied elsewhere and changed): the note says the
    // runs loaded it from another file.
    std::filesystem::create_directories(s.path("elsewhere/methods"));
    std::filesystem::copy_file(lib, s.path("elsewhere/methods/noop.so"));
    std::ofstream(s.path("elsewhere/methods/noop.so"), std::ios::app | std::ios::binary) << "elsewhere";
    s.set_env("ICLR_PLUGIN_PATH", s.path("elsewhere"));
    auto moved = s.run({"run", file});
    EXPECT_TRUE(has(moved.out, "note: 3 trial(s) were run with another build of noop 1.1.0 (its library's SHA-256 "
                               "differs, loaded from another file then: another checkout's or install's build)"))
        << moved.out;
}

// Rerun by another build, the same trials' runs move a verdict: verify says they were run again
// since, not "on the same runs" (the trials' keys, which the last verdict recorded, are the same).
TEST(PluginAuthor, AVerdictMovedByRunsOfAnotherBuildSaysTheyWereRunAgain) {
    Scratch s;
    std::string lib = own_copy_of_noop(s);
    // runs.attempts is 1, then 2 once rerun: the value crosses the threshold.
    std::string file = s.write("n.toml", "[sweep]\nseeds = 2\n[method]\nplugin = \"noop\"\n[[claim]]\nname = "
                                         "\"rerun\"\nkind = \"at_least\"\nthreshold = 1.5\nsql = \"SELECT r.id "
                                         "AS run_id, r.seed, r.attempts + 0.001 * r.seed AS value FROM runs r\"\n");
    ASSERT_EQ(s.run({"run", file}).code, 0);
    EXPECT_TRUE(has(s.run({"verify", file}).out, "not held"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100)); // times are to the second
    std::ofstream(lib, std::ios::app | std::ios::binary) << "rebuilt";
    ASSERT_EQ(s.run({"run", file, "--rerun-changed"}).code, 0);
    auto v = s.run({"verify", file});
    EXPECT_TRUE(has(v.out, "held")) << v.out;
    EXPECT_TRUE(has(v.out, "the verdict was not held at the last verify (")) << v.out;
    EXPECT_TRUE(has(v.out, "), over the same trials, 2 of whose runs were run again since")) << v.out;
}

TEST(PluginAuthor, PluginsMarksALibraryOlderThanItsSources) {
    Scratch s;
    std::string lib = own_copy_of_noop(s);
    auto fresh = s.run({"plugins"});
    EXPECT_FALSE(has(fresh.out, "stale")) << fresh.out;
    struct utimbuf old_times {
        946684800, 946684800
    }; // 2000-01-01: older than tests/fixtures/noop/
    ASSERT_EQ(utime(lib.c_str(), &old_times), 0);
    auto r = s.run({"plugins"});
    EXPECT_TRUE(has(r.out, "stale: rebuild (" + std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/noop is newer)"))
        << r.out;
    auto one = s.run({"plugins", "methods/noop"});
    EXPECT_TRUE(has(one.out, "(stale: its sources are newer; rebuild)")) << one.out;
    // A sweep that uses it says so before anything runs: results would come from the old build.
    std::string file = s.write("n.toml", "[method]\nplugin = \"noop\"\n");
    std::string warning = "warning: method 'noop' (" + lib + ") is older than its sources in " +
                          std::string(ICLR_TEST_SOURCE_DIR) + "/tests/fixtures/noop: ";
    auto plan = s.run({"plan", file});
    EXPECT_TRUE(has(plan.out, warning + "`iclr run` would run it as built, not the code as it reads now")) << plan.out;
    auto run = s.run({"run", file});
    EXPECT_EQ(run.code, 0) << run.out;
    EXPECT_TRUE(has(run.out, warning + "the trials will run it as built")) << run.out;
    EXPECT_FALSE(has(s.run({"plan", s.write("f.toml", "[method]\nplugin = \"fault\"\n")}).out, "warning:"));
}

TEST(PluginAuthor, AGetterTypoInPluginCodeBlamesThePluginNotTheSweep) {
    Scratch s;
    auto r = s.run({"run", s.write("t.toml", "[method]\nplugin = \"fault\"\nmode = \"typo\"\n")});
    EXPECT_EQ(r.code, 2) << r.out; // found by the constructor check, before anything is recorded
    EXPECT_TRUE(has(r.out, "t.toml:2:10: method 'fault' (constructor): parameter 'dealy_ms' is not in this plugin's "
                           "schema (did you mean 'delay_ms'?): a typo in the plugin's code, not in the sweep"))
        << r.out;
}

TEST(PluginAuthor, APluginNameTypoGetsADidYouMean) {
    Scratch s;
    auto r = s.run({"plan", s.write("t.toml", "[method]\nplugin = \"fualt\"\n")});
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.out, "t.toml:2:10: unknown method plugin 'fualt' (did you mean 'fault'?) (available: ")) << r.out;
    // Where it looked: the build's own plugins, then ICLR_PLUGIN_PATH's folders.
    EXPECT_TRUE(has(r.out, "; searched " + std::string(ICLR_BUILD_DIR) + "/plugins, " + ICLR_FIXTURE_OK_DIR + ")"))
        << r.out;
    auto described = s.run({"plugins", "methods/fualt"}); // the same words when describing one
    EXPECT_EQ(described.code, 2) << described.out;
    EXPECT_TRUE(
        has(described.out, "iclr: error: no plugin 'methods/fualt' (try `iclr plugins` for the list; searched " +
                               std::string(ICLR_BUILD_DIR) + "/plugins, " + ICLR_FIXTURE_OK_DIR + ")"))
        << described.out;
    s.set_env("ICLR_PLUGIN_PATH", "");
    auto unset = s.run({"plan", s.write("u.toml", "[method]\nplugin = \"noop\"\n")});
    EXPECT_TRUE(has(unset.out, "; searched " + std::string(ICLR_BUILD_DIR) +
                                   "/plugins; a plugin built elsewhere: put the plugins/ folder of its build in "
                                   "ICLR_PLUGIN_PATH)"))
        << unset.out;
}

// A data set whose load() returns an inconsistent benchmark is one line per defect, naming the
// sweep's line, the data set, the task and what is wrong, before any trial runs (iclr run loads each
// data set first), instead of an error from deep inside the first method that meets it.
TEST(PluginAuthor, ADataSetsDefectIsNamedBeforeAnyTrialRuns) {
    Scratch s;
    const std::string sweep = R"([sweep]
name = "bad_data"
jobs = 1
[dataset]
plugin = "bad_data"
defect = { grid = ["none", "int32_labels", "fewer_labels", "label_range", "negative_label", "class_range",
                   "factor_size", "no_tasks", "nonfinite_pixels", "shifted_shape"] }
[model]
plugin = "mlp"
width = 8
[method]
plugin = "finetune"
[[metric]]
plugin = "avg_accuracy"
)";
    auto r = s.run({"run", s.write("bad.toml", sweep)});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.db()));
    auto says = [&](const std::string& defect, const std::string& problem) {
        EXPECT_TRUE(has(r.out, "bad.toml:5:10: dataset 'bad_data': " + problem + " (1 trial(s) with dataset.defect=\"" +
                                   defect + "\"; found before any ran)\n"))
            << defect << "\n"
            << r.out;
    };
    says("int32_labels", "task 1 't1' train: labels are Int, not int64 (torch::kInt64)");
    says("fewer_labels", "task 1 't1' train: 32 images but 31 labels");
    says("label_range", "task 1 't1' train: labels run from 2 to 4, num_classes is 4");
    says("negative_label", "task 1 't1' train: labels run from -1 to 3, num_classes is 4");
    says("class_range", "task 1 't1' names class 4, num_classes is 4");
    says("factor_size", "task 1 't1' train: factor 'size' has shape [3] for 32 examples");
    says("no_tasks", "no tasks and no episode sampler");
    says("nonfinite_pixels",
         "task 1 't1' train: images hold 2 non-finite value(s) (NaN or inf), the first in example 5");
    says("shifted_shape",
         "shifted test set 'small': examples of shape [1, 2, 4], which no task's test examples have ([1, 4, 4])");
    EXPECT_EQ(occurrences(r.out, "iclr: error: "), 9u) << r.out; // the correct one is not among them
    // The correct benchmark runs.
    auto ok = s.run({"run", s.path("bad.toml"), "--set", "dataset.defect=\"none\""});
    EXPECT_EQ(ok.code, 0) << ok.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1);
}

namespace {

// The parameter names `iclr plugins KIND/NAME` lists, from its table's first column.
std::vector<std::string> listed_parameters(const std::string& out) {
    std::vector<std::string> names;
    std::istringstream in(out);
    bool table = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("parameter ", 0) == 0)
            table = true;
        else if (table && !line.empty() && line[0] != '-' && line[0] != '(')
            names.push_back(line.substr(0, line.find(' ')));
    }
    return names;
}

// Whether `text` names `param` as a word, or a `prefix_*` that covers it.
bool names(const std::string& text, const std::string& param) {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (size_t at = text.find(param); at != std::string::npos; at = text.find(param, at + 1))
        if ((at == 0 || !word(text[at - 1])) && (at + param.size() >= text.size() || !word(text[at + param.size()])))
            return true;
    for (size_t cut = param.find('_'); cut != std::string::npos; cut = param.find('_', cut + 1))
        if (text.find("`" + param.substr(0, cut + 1) + "*`") != std::string::npos) return true;
    return false;
}

} // namespace

// A plugin's README says what each parameter it takes is and where its default comes from, in the
// README itself or in one it links to (the SDK's table of the parameters continual methods share,
// `finetune`'s for the pretraining stage, `mnist`'s for the stream): `iclr plugins` shows a default,
// not why. Until 2026-12-05 der, ewc and pnn said nothing of their optimiser.
TEST(PluginAuthor, EveryPluginsReadmeNamesEachParameterItTakes) {
    Scratch s;
    const std::filesystem::path root = std::string(ICLR_TEST_SOURCE_DIR) + "/plugins";
    int plugins = 0;
    for (const char* kind : {"datasets", "methods", "metrics", "models"})
        for (const auto& dir : std::filesystem::directory_iterator(root / kind)) {
            std::string name = dir.path().filename().string();
            if (name == "common") continue;
            ++plugins;
            std::ifstream in(dir.path() / "README.md");
            ASSERT_TRUE(in) << kind << "/" << name << " has no README.md";
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::string own = text;
            // Links to other READMEs, "](../finetune/README.md)" or "](...README.md#anchor)".
            for (size_t at = own.find("README.md"); at != std::string::npos; at = own.find("README.md", at + 1)) {
                size_t open = own.rfind("](", at), end = at + std::string("README.md").size();
                if (open == std::string::npos || end >= own.size() || (own[end] != ')' && own[end] != '#')) continue;
                std::ifstream linked(dir.path() / own.substr(open + 2, end - open - 2));
                text += std::string((std::istreambuf_iterator<char>(linked)), std::istreambuf_iterator<char>());
            }
            auto described = s.run({"plugins", std::string(kind) + "/" + name});
            ASSERT_EQ(described.code, 0) << described.out;
            std::vector<std::string> params = listed_parameters(described.out);
            for (const auto& p : params)
                EXPECT_TRUE(names(text, p)) << kind << "/" << name << ": README says nothing of '" << p << "'";
        }
    EXPECT_GE(plugins, 60);
}
