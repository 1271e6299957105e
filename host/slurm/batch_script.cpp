// job.sh: written once per run folder; every submission of the folder uses it.
#include "slurm/batch_script.hpp"

#include "common/process.hpp"

namespace iclr::slurm {

std::string batch_script(const RunFolder& folder, const std::string& sweep_name, const std::string& iclr_exe,
                         const SlurmSettings& s) {
    std::string t = "#!/bin/bash\n# iclr: one array task of sweep " + sweep_name +
                    " (plan: plan.toml beside this script)\n"
                    "#SBATCH --job-name=iclr-" +
                    sweep_name +
                    "\n#SBATCH --open-mode=append\n#SBATCH --cpus-per-task=" + std::to_string(s.cpus_per_task) +
                    "\n#SBATCH --signal=B:USR1@" + std::to_string(s.signal_grace_s) + "\n#SBATCH --requeue\n";
    if (!s.partition.empty()) t += "#SBATCH --partition=" + s.partition + "\n";
    if (!s.time.empty()) t += "#SBATCH --time=" + s.time + "\n";
    if (!s.gres.empty()) t += "#SBATCH --gres=" + s.gres + "\n";
    t += "exec " + shell_quoted(iclr_exe) + " __slurm-task " + shell_quoted(folder.root().string()) + " \"$1\"\n";
    return t;
}

} // namespace iclr::slurm
