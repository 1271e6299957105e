// `iclr run --launcher slurm`: sync earlier submissions, freeze the plan, submit array jobs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "common/results_layout.hpp"
#include "slurm/ingest.hpp"
#include "slurm/run_folder.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {

struct SlurmLaunch {
    const RunOptions& options;
    const SweepArms& arms;
    Store& store;
    const ResultsLayout& layout;
    std::string db_path, data_dir;
};
// Returns the exit code (with --wait: 1 when a trial failed, as a local run).
int run_on_slurm(const SlurmLaunch& l);

// A sweep's array jobs as --wait follows them: its run folder and frozen plan (without payloads).
struct SlurmSubmitted {
    std::string file; // the sweep file, as named on the command line
    std::string sweep;
    int64_t max_failures = 0; // cancel the pending tasks after this many failed (0: never)
    RunFolder folder;
    FrozenPlan plan;
    slurm::FollowState seen = {}; // what the earlier passes read: only changed tasks are read again
};
// Plans and submits the sweep's trials, saying so; nullopt when none was left to submit.
std::optional<SlurmSubmitted> submit_to_slurm(const SlurmLaunch& l);
// --wait: follows the submissions together, syncing every 2 s and drawing one progress line, and
// closes each sweep with its line once Slurm holds none of its tasks. Returns 1 when a trial failed
// (each such sweep's file is added to `incomplete`, and so is one with trials not done), 128 +
// the signal when a stop signal ended the following (the array jobs go on), else 0.
int follow_on_slurm(Store& store, std::vector<SlurmSubmitted>& subs, std::vector<std::string>* incomplete = nullptr);

} // namespace iclr
