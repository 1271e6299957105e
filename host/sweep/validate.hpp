// Checks a parsed sweep against the discovered plugins' schemas, before any trial starts.
#pragma once

#include <map>

#include <optional>
#include <string>
#include <vector>

#include "common/nearest_name.hpp"
#include "plugin/plugin_registry.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// Checks v against the schema, converting an int to a float where a float is expected.
// Returns the problem in words, or nullopt when v is acceptable.
std::optional<std::string> check_value(const ParamSchema& schema, Value& v);

// " (did you mean 'lr'?)" for a key one or two edits from one of p's parameters, else " (its parameters: ...)".
std::string parameter_suggestion(const std::string& key, const PluginRecord& p);

// Resolves each section's plugin (kind and name) and checks every fixed value, every axis value
// and every random range. Returns the plugin of each section (same order as spec.sections).
// Throws SweepError listing every problem with its file:line:column.
// `arm_plugins` (validate_arms): the plugins each section runs in some arm, so that a key one arm's
// plugin lacks and another's has is pointed at that plugin's table ([method.finetune]).
using ArmPlugins = std::map<std::string, std::vector<const PluginRecord*>>;
std::vector<const PluginRecord*> validate_sweep(SweepSpec& spec, const PluginRegistry& registry,
                                                const ArmPlugins* arm_plugins = nullptr);
// The same for every arm; a problem all arms share is reported once, the others with the arm's name;
// and the claims' keys (check_claim_keys).
std::vector<std::vector<const PluginRecord*>> validate_arms(std::vector<SweepSpec>& arms,
                                                            const PluginRegistry& registry);
// claim_keys.cpp: each claim written with metric = "..." against the arms and plugins: its where,
// group and x name parameters some arm's plugin declares (where values of their type and range),
// an arm group's a and b name arms, a plugin column's values name built plugins of its kind. Sections
// whose plugins did not load are not checked (the sweep's own checks report them).
std::vector<Diagnostic> check_claim_keys(const std::vector<SweepSpec>& arms, const PluginRegistry& registry);

} // namespace iclr
