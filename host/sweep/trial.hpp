// A resolved trial: every plugin with its full parameter set, the canonical config text and key.
#pragma once

#include <string>
#include <vector>

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

// The trial's canonical text (what its key hashes): the seed, then each part's plugin, version and
// parameters in key order. `iclr rerun` rebuilds a recorded run's text with it to check its key.
std::string canonical_config(int64_t seed, const std::vector<ResolvedPart>& parts);
// The first 32 hex digits of the text's SHA-256.
std::string trial_key(const std::string& config_toml);

ResolvedTrial resolve_trial(const SweepSpec& spec, const std::vector<const PluginRecord*>& plugins,
                            const TrialPoint& point);

// The trial as JSON (for the runs table), from its canonical TOML.
std::string config_json(const std::string& config_toml);

} // namespace iclr
