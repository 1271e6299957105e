// What `iclr run --launcher slurm`, `iclr sync` and `iclr status` share: the queue's view of a
// sweep's run folders, syncing with a one-line summary, and flags over [sweep.slurm].
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "common/slurm_settings.hpp"
#include "slurm/ingest.hpp"
#include "slurm/run_folder.hpp"
#include "store/store.hpp"

namespace iclr {

// The array tasks ("<job>_<index>") of these folders' submissions that Slurm still holds
// (pending, running, requeued); nullopt when squeue cannot be asked.
std::optional<std::set<std::string>> active_tasks(const std::vector<RunFolder>& folders);
// The keys of the trials those tasks own (their slices of each folder's plan).
std::set<std::string> busy_keys(const std::vector<RunFolder>& folders, const std::set<std::string>& active);
// Syncs one folder; prints a line when anything changed (always when `verbose`) and each problem
// as a warning.
slurm::SyncResult sync_and_say(Store& store, const RunFolder& folder,
                               const std::optional<std::set<std::string>>& active, bool verbose);
// "12 done, 1 failed, 2 running"
std::string status_counts(const std::map<RunStatus, int64_t>& by_status);
SlurmSettings merge_flags(SlurmSettings s, const SlurmFlags& f);

} // namespace iclr
