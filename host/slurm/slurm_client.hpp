// The Slurm commands iclr uses (sbatch, squeue, scontrol), run as processes; a failure is a
// UserError quoting the command and what it printed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/slurm_settings.hpp"

namespace iclr::slurm {

// sbatch found on PATH (SLURM_CONF, when set, says which cluster).
bool available();
// `scontrol show config`'s MaxArraySize (array indices must stay below it); 1001 when unreadable.
int64_t max_array_size();
// Submits `script` as an array job with indices 0..count-1 (at most max_parallel at once), the
// script getting `first_task` as its argument, each task's output appended to `output` (sbatch's
// pattern, e.g. ".../logs/%A_%a.out"). Returns the array job id.
std::string submit_array(const std::string& script, int64_t count, int64_t first_task, const SlurmSettings& s,
                         const std::string& output);
// The array tasks of these jobs that Slurm still holds, "<job>_<index>" -> state (PENDING,
// RUNNING, REQUEUED, ...). nullopt when squeue cannot be asked (no Slurm on this machine).
std::optional<std::map<std::string, std::string>> queued_tasks(const std::vector<std::string>& job_ids);
// `scontrol requeue <job>_<index>`: the task runs again later (Slurm delays requeued jobs).
void requeue(const std::string& job_task);
// `scancel --state=PENDING <job>`: the array's tasks not started yet go; the running ones finish.
void cancel_pending(const std::string& job_id);

} // namespace iclr::slurm
