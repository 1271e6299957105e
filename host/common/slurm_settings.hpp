// How a sweep is handed to Slurm: `[sweep.slurm]` in the sweep file, overridden by `iclr run` flags.
#pragma once

#include <string>
#include <vector>

namespace iclr {

struct SlurmSettings {
    std::string partition;                // "" = the cluster's default partition
    std::string time;                     // per array task, Slurm's format ("1:00:00"); "" = the partition's
    int max_parallel = 0;                 // array tasks running at once (sbatch --array=...%K); 0 = no limit
    int trials_per_task = 1;              // trials each array task runs, one after the other
    int cpus_per_task = 1;                // cores each array task asks for; its trials' torch threads
    std::string gres;                     // e.g. "gpu:1"; "" = none
    int signal_grace_s = 120;             // time-limit warning: SIGUSR1 this long before the kill
    std::vector<std::string> sbatch_args; // passed to sbatch as they are
};

} // namespace iclr
