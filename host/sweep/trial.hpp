// A resolved trial: every plugin with its full parameter set, the canonical config text and key.
#pragma once

#include <string>
#include <vector>

#include "common/trial_key.hpp"
#include "plugin/plugin_record.hpp"
#include "sweep/expansion.hpp"

namespace iclr {

struct ResolvedPart {
    const SectionSpec* section = nullptr;
    const PluginRecord* plugin = nullptr;
    ParamSet params; // schema defaults, then fixed values, then this trial's axis values
};

struct ResolvedTrial {
    uint64_t index = 0;
    int64_t seed = 0;
    std::vector<ResolvedPart> parts;
    std::string config_toml; // canonical: sorted keys, defaults filled, plugin versions included
    std::string key;         // sha256(config_toml): same config + seed + versions = same trial
};

// The parts in the order the canonical text lists them and the worker runs them: every part but
// the metrics as given (the parser's fixed order of roles), then the metrics in metric_key_order.
std::vector<const ResolvedPart*> parts_in_key_order(const std::vector<ResolvedPart>& parts);
// The trial's canonical text (what its key, trial_key, hashes): the seed, then each part's plugin,
// version and parameters (sorted by name), the parts in parts_in_key_order. `iclr rerun` rebuilds
// a recorded run's text with it to check its key.
std::string canonical_config(int64_t seed, const std::vector<ResolvedPart>& parts);

ResolvedTrial resolve_trial(const SweepSpec& spec, const std::vector<const PluginRecord*>& plugins,
                            const TrialPoint& point);

} // namespace iclr
