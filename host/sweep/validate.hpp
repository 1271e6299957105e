// Checks a parsed sweep against the discovered plugins' schemas, before any trial starts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plugin/plugin_registry.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// Checks v against the schema, converting an int to a float where a float is expected.
// Returns the problem in words, or nullopt when v is acceptable.
std::optional<std::string> check_value(const ParamSchema& schema, Value& v);

// Resolves each section's plugin (kind and name) and checks every fixed value, every axis value
// and every random range. Returns the plugin of each section (same order as spec.sections).
// Throws SweepError listing every problem with its file:line:column.
std::vector<const PluginRecord*> validate_sweep(SweepSpec& spec, const PluginRegistry& registry);
// The same for every arm; a problem all arms share is reported once, the others with the arm's name.
std::vector<std::vector<const PluginRecord*>> validate_arms(std::vector<SweepSpec>& arms,
                                                            const PluginRegistry& registry);

} // namespace iclr
