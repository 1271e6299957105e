// The run of a trial in a database made with a plugin version that added or dropped a parameter, or
// by a sweep with other metrics.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/trial_config.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/store.hpp"

namespace iclr {

// Another database's runs, to find the one of a trial run with a plugin version that added or
// dropped a parameter (its config without versions is not the trial's, so runs_by_config misses it,
// and an edited sweep text moves its place): the same seed and plugins, the same value of each
// parameter both versions have, and the trial's parameters that the run's version lacked at their
// defaults here, where leaving them out changes nothing a run of the older version could not have
// done. A metric only one of them has is left out too: a metric reads the training and never moves
// it (the worker gives libtorch's global generators back as they were after each metric), so a
// sweep that added or dropped a [[metric]] still compares with its runs on the metrics both have.
// Where runs of several values of a parameter only their version has would stand for the trial,
// none does: which of them the trial is cannot be told. Runs that differ only in their metrics are
// the same training: the one with the fewest metrics left out stands for the trial.
class RunsBySharedParams {
  public:
    explicit RunsBySharedParams(Store& other);

    // The run standing for the trial of `config_toml` (runs.config_toml), 0 for none. `registry`
    // declares the defaults of the trial's plugins (only of the versions the text names); `left_out`
    // gets each parameter left out, as "plugin.name (only in this version, at its default)" or
    // "plugin.name (only in theirs)", and each metric, as "metric plugin (only here)" or "metric
    // plugin (only in theirs)".
    int64_t find(const std::string& config_toml, const PluginRegistry& registry,
                 std::set<std::string>* left_out = nullptr) const;

  private:
    // By seed and plugins but the metrics (shape_of); in each, unfinished runs first, then by finish time.
    std::map<std::string, std::vector<std::pair<int64_t, SplitConfig>>> runs_;
};

// "by the parameters both plugin versions have (left out: ...)" ("by the plugins and parameters both
// have" where a metric was left out, or nothing: the metrics in another order): how verify and diff
// say that runs were found this way.
std::string by_shared_params_words(const std::set<std::string>& left_out);
// Why such runs have other keys: "a version that added or dropped a parameter", "other metrics",
// both, or "the metrics in another order"; verify and diff say "the same trials run with" it.
std::string by_shared_params_reason(const std::set<std::string>& left_out);

} // namespace iclr
