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

// How verify and diff say what was left out, and why the runs' keys differ.
TEST(RunsBySharedParams, TheWordsSayWhatWasLeftOutAndWhy) {
    EXPECT_EQ(by_shared_params_words({"noop.tag (only in theirs)"}),
              "by the parameters both plugin versions have (left out: noop.tag (only in theirs))");
    EXPECT_EQ(by_shared_params_reason({"noop.tag (only in theirs)"}), "a version that added or dropped a parameter");
    EXPECT_EQ(by_shared_params_words({"metric m (only here)", "noop.tag (only in theirs)"}),
              "by the plugins and parameters both have (left out: metric m (only here), noop.tag (only in theirs))");
    EXPECT_EQ(by_shared_params_reason({"metric m (only here)", "noop.tag (only in theirs)"}),
              "other metrics and a version that added or dropped a parameter");
    EXPECT_EQ(by_shared_params_reason({"metric m (only here)"}), "other metrics");
    // Nothing left out: the same metrics in another order (another text, so another key).
    EXPECT_EQ(by_shared_params_words({}), "by the plugins and parameters both have (the metrics in another order)");
    EXPECT_EQ(by_shared_params_reason({}), "the metrics in another order");
}

// Runs with and without a metric the trial lacks are the same training: the one whose metrics are
// closest to the trial's stands for it (a database holding a sweep's runs from before and after a
// [[metric]] was added); of equally close runs, the last finished (here the last made).
TEST(RunsBySharedParams, OfRunsThatDifferOnlyInTheirMetricsTheClosestStandsForTheTrial) {
    test::TempDir dir;
    auto both = runs_of(dir.file("both.db"), {kMethod, kMethod + metric_part("m", 2)});
    EXPECT_EQ(found_run(*both, kMethod), "1:");
    EXPECT_EQ(found_run(*both, kMethod + metric_part("m", 2)), "2:");
    EXPECT_EQ(found_run(*both, kMethod + metric_part("n", 1)), "1: metric n (only here);");
    auto later = runs_of(dir.file("later.db"), {kMethod + metric_part("m", 2), kMethod});
    EXPECT_EQ(found_run(*later, kMethod + metric_part("n", 1)), "2: metric n (only here);");
    auto values = runs_of(dir.file("values.db"), {kMethod + metric_part("m", 2), kMethod + metric_part("m", 3)});
    EXPECT_EQ(found_run(*values, kMethod), "2: metric m (only in theirs);");
    auto order = runs_of(dir.file("order.db"), {kMethod + metric_part("m", 2) + metric_part("n", 1),
                                                kMethod + metric_part("n", 1) + metric_part("m", 2)});
    EXPECT_EQ(found_run(*order, kMethod), "2: metric m (only in theirs); metric n (only in theirs);");
}

// But runs of two values of a parameter the trial's version lacks are two trainings: neither stands
// for it, with or without metrics beside.
TEST(RunsBySharedParams, RunsOfTwoValuesOfAParameterTheTrialLacksStandForNone) {
    test::TempDir dir;
    const std::string dropped1 =
        "seed = 0\n\n[method]\nplugin = \"noop\"\nversion = \"1.0.0\"\nparams = { dropped = 1, values = 3 }\n";
    const std::string dropped2 =
        "seed = 0\n\n[method]\nplugin = \"noop\"\nversion = \"1.0.0\"\nparams = { dropped = 2, values = 3 }\n";
    auto two = runs_of(dir.file("two.db"), {dropped1, dropped2 + metric_part("m", 2)});
    EXPECT_EQ(found_run(*two, kMethod), "0:");
    auto one = runs_of(dir.file("one.db"), {dropped1, dropped1 + metric_part("m", 2)});
    EXPECT_EQ(found_run(*one, kMethod), "1: noop.dropped (only in theirs);");
}
