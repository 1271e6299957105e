// Before a sweep runs: each distinct plugin configuration constructed once in a worker.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/results_layout.hpp"
#include "exec/scheduler.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {

// What the check did, for `iclr plan` to say.
struct ConstructorCheck {
    size_t configurations = 0; // distinct (section, plugin, parameters) constructed
    bool capped = false;       // there were more than kMaxCheckedConfigurations: the rest are left to the trials
    double seconds = 0;
    int stop_signal = 0; // a stop signal (stop_signal.hpp) ended it before every configuration was built
    int workers = 1;     // the workers it ran on
};

// More distinct configurations than this (a random search over a float draws a new one per trial)
// are left to their trials: constructing a million would cost what the check saves.
constexpr size_t kMaxCheckedConfigurations = 5000;

// How the check runs. `gpus`: those the sweep's workers are pinned to (run_plan.hpp's gpus_for), so
// that the check's worker can be one of them. `load_data`: each data set configuration is loaded
// too (the first kMaxLoadedDataSets), so that a missing data folder, or parameters a data set
// refuses only once it reads its files, are one error as well. `iclr run` on its own pool does it:
// its trials would load them anyway, and the check's worker keeps them for the trials it runs. Not
// `iclr plan` (a dry run that writes nothing into the data cache) nor a Slurm submission (the
// login node would decode what the compute nodes read).
struct CheckSettings {
    std::string data_dir;
    ResultsLayout layout;
    std::vector<std::string> gpus = {};
    bool load_data = false;
    std::string data_scope = {}; // SchedulerOptions::data_scope: the sweep's trials name the same
    // Workers to check on (at most one per trial): `iclr run` starts as many as its trials will use,
    // so that the others load libtorch while the first constructs, then share the configurations
    // and data sets, and all are ready for the trials.
    int workers = 1;
};
constexpr size_t kMaxLoadedDataSets = 16;

// A plugin's constructor checks what its schema cannot say (two parameters that must differ, heads
// that must divide the width, a parameter its code reads under a misspelt name). Without this check
// such a configuration ran and failed once per trial (every seed, every arm sharing it) while `iclr
// plan` said "valid: yes". Each distinct configuration of each section (its plugin with the
// parameters one trial resolves) is constructed once, in one worker process, and deleted: nothing
// trains, nothing is recorded. Throws SweepError with one line per refused configuration, at its
// section's line, naming the trials it would have run; HostError when workers cannot start.
// Given `keep`, the check's worker is left there, ready, for the sweep's trials
// (Scheduler::reconfigure before its next run); one already there (a check or a sweep before,
// `iclr run A B`) is used instead of starting another.
ConstructorCheck check_constructors(const SweepArms& arms, const CheckSettings& settings,
                                    std::unique_ptr<Scheduler>* keep = nullptr);

} // namespace iclr
