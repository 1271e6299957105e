// `iclr sync`: a run folder's journals into the database, idempotently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "slurm/run_folder.hpp"
#include "store/store.hpp"

namespace iclr::slurm {

struct SyncResult {
    int64_t ingested = 0;                // runs written (first time, or their attempt or status changed)
    int64_t unchanged = 0;               // runs already as their journals say
    int64_t kept = 0;                    // runs already finished in the database by another attempt: left alone
    std::map<RunStatus, int64_t> status; // every run the journals name, by the status it has now
    std::vector<std::string> problems;   // one line each: torn journals, records for unknown runs, ...
    struct Change {
        int64_t run = 0;
        RunStatus status = RunStatus::Running; // what the run is now
        double seconds = 0;
        std::string error;
    };
    std::vector<Change> changes; // the runs written, in journal order (for a live progress line)
};

// For every run the folder's journals name, the winning attempt (attempts.hpp) replaces whatever
// the database holds for it, in one transaction per run, unless the database already holds that
// attempt with that status (so a second sync is a no-op) or the run is already finished (done or
// diverged: never replaced, never undone). An attempt without an end record is 'running' while its array task is in
// `active`, else 'interrupted'; active = nullopt (Slurm cannot be asked) counts every such attempt as ended.
// `plan`: the folder's plan when the caller holds it (--wait syncs every 2 s), else read here.
// `follow`: what the caller's earlier passes over this folder saw; given, only the array tasks
// whose journals or queue state changed since are read, and `status` still counts every run seen.
struct FollowState {
    struct Task {
        std::string signature;             // its journals' names, sizes and times, and queue state
        std::vector<std::string> problems; // what reading them found
    };
    std::map<std::string, Task> tasks;   // by array task, "12_3"
    std::map<int64_t, RunStatus> status; // every run's status as last synced
};
SyncResult sync_folder(Store& store, const RunFolder& folder, const std::optional<std::set<std::string>>& active,
                       const FrozenPlan* plan = nullptr, FollowState* follow = nullptr);

} // namespace iclr::slurm
