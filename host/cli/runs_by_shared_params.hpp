// The run of a trial in a database made with a plugin version that added or dropped a parameter.
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
// done. Where runs of several values of a parameter only their version has would stand for the
// trial, none does: which of them the trial is cannot be told.
class RunsBySharedParams {
  public:
    explicit RunsBySharedParams(Store& other);

    // The run standing for the trial of `config_toml` (runs.config_toml), 0 for none. `registry`
    // declares the defaults of the trial's plugins (only of the versions the text names); `left_out`
    // gets each parameter left out, as "plugin.name (only in this version, at its default)" or
    // "plugin.name (only in theirs)".
    int64_t find(const std::string& config_toml, const PluginRegistry& registry,
                 std::set<std::string>* left_out = nullptr) const;

  private:
    // By seed and plugins (shape_of); in each, unfinished runs first, then by finish time.
    std::map<std::string, std::vector<std::pair<int64_t, SplitConfig>>> runs_;
};

// "by the parameters both plugin versions have (left out: ...)": how verify and diff say that runs
// were found this way.
std::string by_shared_params_words(const std::set<std::string>& left_out);

} // namespace iclr
