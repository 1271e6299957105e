// `iclr run --launcher slurm`: sync earlier submissions, freeze the plan, submit array jobs.
#pragma once

#include <string>

#include "cli/commands.hpp"
#include "common/results_layout.hpp"
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

} // namespace iclr
