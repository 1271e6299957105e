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

// The sweep settings that decide a trial's outcome beyond its config, as the run's sweep had them
// (recorded_sweep). When that sweep does not read back today, `unreadable` says why and the rest
// are the defaults: no time or memory limit, a non-finite loss stops the trial.
struct RecordedSettings {
    double timeout_s = 0;
    int64_t memory_mb = 0;
    std::string on_nonfinite = "stop";
    std::string unreadable;
};
RecordedSettings recorded_settings(const RunDetails& run);

// Throws UserError naming the run when its config does not read back to its key, or a plugin it
// used is missing, broken or at another version today (another version is another trial).
RecordedTrial recorded_trial(const RunDetails& run, const PluginRegistry& registry);

} // namespace iclr
