// The batch script each array task runs: resources and signals as #SBATCH lines, then `iclr`.
#pragma once

#include <string>

#include "common/slurm_settings.hpp"
#include "slurm/run_folder.hpp"

namespace iclr::slurm {

// The script's text. The task's iclr replaces the shell (exec), so the time-limit warning
// (--signal=B:USR1@grace, sent to the batch shell) reaches it: it stops its trials, records them
// interrupted and requeues its task. Its argument: the plan task of array index 0. The log path
// goes on sbatch's command line (submit_array), where a folder with spaces needs no quoting.
std::string batch_script(const RunFolder& folder, const std::string& sweep_name, const std::string& iclr_exe,
                         const SlurmSettings& s);

} // namespace iclr::slurm
