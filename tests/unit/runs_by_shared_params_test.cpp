// RunsBySharedParams: which run of another database stands for a trial whose config has other
// parameters or other metrics (verify --against, diff --against), on hand-written config texts.
#include <gtest/gtest.h>

#include "cli/runs_by_shared_params.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

using namespace iclr;

namespace {

const std::string kMethod = "seed = 0\n\n[method]\nplugin = \"noop\"\nversion = \"1.1.0\"\nparams = { values = 3 }\n";

std::string metric_part(const std::string& plugin, int k) {
    return "\n[[metric]]\nplugin = \"" + plugin + "\"\nversion = \"1.0.0\"\nparams = { k = " + std::to_string(k) +
           " }\n";
}

// A database holding one run of each config text, ids 1, 2, ... in order.
std::unique_ptr<Store> runs_of(const std::string& path, const std::vector<std::string>& configs) {
    auto s = Store::open_write(path);
    s->begin();
    int64_t sweep = s->add_sweep({"t", "t.toml", "", "src", "sha", "", "host", -1});
    for (size_t i = 0; i < configs.size(); ++i) {
        RunRow r;
        r.key = "key-" + std::to_string(i);
        r.sweep_id = sweep;
        r.trial_index = i;
        r.method = "noop";
        r.config_toml = configs[i];
        r.config_json = r.plugins_json = "{}";
        s->prepare_run(r, std::nullopt);
    }
    s->commit();
    return s;
}

// The run found for `trial` and what was left out, as "id: left out; ...".
std::string found_run(Store& s, const std::string& trial) {
    std::set<std::string> left_out;
    int64_t id = RunsBySharedParams(s).find(trial, PluginRegistry::with_records({}), &left_out);
    std::string out = std::to_string(id) + ":";
    for (const auto& x : left_out)
        out += " " + x + ";";
    return out;
}

} // namespace

// A metric reads the training without moving it: a run made without one of the trial's metrics, or
// with one the trial lacks, is the same trial, the metric left out.
TEST(RunsBySharedParams, AMetricOnlyOneSideHasIsLeftOut) {
    test::TempDir dir;
    auto without = runs_of(dir.file("without.db"), {kMethod});
    EXPECT_EQ(found_run(*without, kMethod + metric_part("m", 2)), "1: metric m (only here);");
    auto with = runs_of(dir.file("with.db"), {kMethod + metric_part("m", 2)});
    EXPECT_EQ(found_run(*with, kMethod), "1: metric m (only in theirs);");
    // The metrics both have are compared by plugin, whatever their order, parameter by parameter.
    auto two = runs_of(dir.file("two.db"), {kMethod + metric_part("n", 1) + metric_part("m", 2)});
    EXPECT_EQ(found_run(*two, kMethod + metric_part("m", 2) + metric_part("n", 1)), "1:");
    EXPECT_EQ(found_run(*two, kMethod + metric_part("m", 3) + metric_part("n", 1)), "0:");
    EXPECT_EQ(found_run(*two, kMethod + metric_part("m", 2) + metric_part("p", 1)),
              "1: metric n (only in theirs); metric p (only here);");
    // A metric plugin both have, more often in one: which of them is which cannot be told.
    EXPECT_EQ(found_run(*with, kMethod + metric_part("m", 2) + metric_part("m", 2)), "0:");
    // The method's parameters still decide: another value is another training.
    EXPECT_EQ(
        found_run(*without, "seed = 0\n\n[method]\nplugin = \"noop\"\nversion = \"1.1.0\"\nparams = { values = 4 }\n" +
                                metric_part("m", 2)),
        "0:");
    EXPECT_EQ(
        found_run(*without, "seed = 1\n\n[method]\nplugin = \"noop\"\nversion = \"1.1.0\"\nparams = { values = 3 }\n"),
        "0:");
}

// Runs with and without a metric the trial lacks would both stand for it (or runs of two values of a
// metric's parameter): which one is the trial cannot be told, so neither does.
TEST(RunsBySharedParams, RunsThatDifferOnlyInWhatTheTrialLacksStandForNone) {
    test::TempDir dir;
    auto both = runs_of(dir.file("both.db"), {kMethod, kMethod + metric_part("m", 2)});
    EXPECT_EQ(found_run(*both, kMethod + metric_part("n", 1)), "0:");
    auto values = runs_of(dir.file("values.db"), {kMethod + metric_part("m", 2), kMethod + metric_part("m", 3)});
    EXPECT_EQ(found_run(*values, kMethod), "0:");
    // Runs with the same metrics the trial lacks, in another order, are runs of one trial: the last
    // finished (here the last made) stands for it, as for two runs of one config.
    auto order = runs_of(dir.file("order.db"), {kMethod + metric_part("m", 2) + metric_part("n", 1),
                                                kMethod + metric_part("n", 1) + metric_part("m", 2)});
    EXPECT_EQ(found_run(*order, kMethod), "2: metric m (only in theirs); metric n (only in theirs);");
    // Two runs of one trial as it is: the last finished (here the last made) stands for it.
    auto again = runs_of(dir.file("again.db"), {kMethod + metric_part("m", 2), kMethod + metric_part("m", 2)});
    EXPECT_EQ(found_run(*again, kMethod), "2: metric m (only in theirs);");
}
