// What makes a trial apart from its plugins' versions, or its seed: the canonical config text without them,
// and the text part by part.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace iclr {

// The canonical config text (sweep/trial.hpp's canonical_config) without its plugins' version lines:
// what a trial run with other plugin versions has in common with it (the plugins, their parameters,
// the seed), where the key, which hashes the versions too, differs. `verify --against` and `diff
// --against` match runs by it; SQL has it as trial_config(config_toml).
std::string config_without_versions(const std::string& config_toml);

// The canonical config text without its first line, "seed = N": the same trial at any seed (what
// verify counts as a sweep's trials at seeds it does not plan).
std::string config_at_any_seed(const std::string& config_toml);

// One part of a canonical config text: its role, plugin and version (unquoted), and each parameter's
// value as the text wrote it (TOML), by name.
struct ConfigPart {
    std::string role; // "dataset", "pretrain", "model", "method", "metric"
    std::string plugin, version;
    std::map<std::string, std::string> params;
};
struct SplitConfig {
    int64_t seed = 0;
    std::vector<ConfigPart> parts;
};
// The canonical text part by part, to compare two versions' runs of a trial parameter by parameter
// (a version that added or dropped one); nullopt for a text not in canonical_config's format.
std::optional<SplitConfig> split_config(const std::string& config_toml);

} // namespace iclr
