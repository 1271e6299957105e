// What makes a trial apart from its plugins' versions, or its seed: the canonical config text without them.
#pragma once

#include <string>

namespace iclr {

// The canonical config text (sweep/trial.hpp's canonical_config) without its plugins' version lines:
// what a trial run with other plugin versions has in common with it (the plugins, their parameters,
// the seed), where the key, which hashes the versions too, differs. `verify --against` and `diff
// --against` match runs by it; SQL has it as trial_config(config_toml).
std::string config_without_versions(const std::string& config_toml);

// The canonical config text without its first line, "seed = N": the same trial at any seed (what
// verify counts as a sweep's trials at seeds it does not plan).
std::string config_at_any_seed(const std::string& config_toml);

} // namespace iclr
