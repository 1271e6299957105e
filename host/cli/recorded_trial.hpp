// A recorded run's trial rebuilt from the database (`iclr rerun`): its plugins found among today's,
// its parameters as recorded, checked to give the same canonical text and key.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "plugin/plugin_registry.hpp"
#include "store/run_details.hpp"
#include "sweep/sweep.hpp"
#include "sweep/trial.hpp"

namespace iclr {

struct RecordedTrial {
    std::deque<SectionSpec> sections; // what trial.parts point at (a deque: the pointers stay put)
    ResolvedTrial trial;
    // One line per plugin whose library today is not the run's build (the same name and version,
    // another SHA-256), or is stale: what the rerun runs is not byte for byte what ran.
    std::vector<std::string> other_builds;
};

// Throws UserError naming the run when its config does not read back to its key, or a plugin it
// used is missing, broken or at another version today (another version is another trial).
RecordedTrial recorded_trial(const RunDetails& run, const PluginRegistry& registry);

} // namespace iclr
