// `iclr rerun`'s runs side by side on one pool of workers, each in a folder and cache of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "common/results_layout.hpp"
#include "common/run_record.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/run_details.hpp"
#include "store/store.hpp"

namespace iclr {

// Holds reruns/DB/run-N.lock while a run is rerun: a second command rerunning the same run (another
// terminal, a script) is told so instead of removing this one's folder and fresh cache under it.
// The lock is the kernel's (flock), so a rerun killed by -9 leaves none behind.
class RerunClaim {
  public:
    // Claims `run` of the database whose layout is `db` (its rerun_lock). Throws UserError naming
    // the holder's pid when another iclr holds the run.
    RerunClaim(const ResultsLayout& db, int64_t run);
    RerunClaim(RerunClaim&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    RerunClaim& operator=(RerunClaim&&) = delete;
    RerunClaim(const RerunClaim&) = delete;
    RerunClaim& operator=(const RerunClaim&) = delete;
    ~RerunClaim();

  private:
    int fd_ = -1;
};

// One recorded run made ready to run again: what it recorded, and what its worker gets.
struct RerunJob {
    RunDetails run;
    std::vector<RecordedMetric> recorded; // its metric rows, in the order they were recorded
    std::vector<std::string> notes;       // "note: ..." lines: another build of a plugin, a sweep that no longer reads
    int threads = 1;                      // the recorded count, or --threads
    double timeout_s = 0;                 // the recorded sweep's, 0 = none
    int64_t memory_mb = 0;                // the recorded sweep's: a worker's, fixed at its start
    std::string payload;
    ResultsLayout scratch; // reruns/DB/run-N/: its log, run folder and (unless --warm-cache) cache
    RerunClaim claim;      // the run's, for as long as the job lives
};

// Throws UserError naming the run when it cannot be rerun: not in the database, unfinished, a
// trial today's plugins cannot rebuild (recorded_trial), or being rerun by another command. Clears
// the run's last rerun folder.
RerunJob prepare_rerun(Store& store, const std::string& id_or_key, const RerunOptions& o, const PluginRegistry& reg);

// "rerun of run 12 (sweep s, arm a, seed 0): 1 thread(s), a fresh cache; log PATH"
std::string rerun_header(const RerunJob& job, bool warm_cache);

// What a rerun's worker reported; nothing of it reaches the database.
struct RerunResult {
    std::optional<RunStart> start;
    std::optional<RunEnd> end;
    std::vector<RecordedMetric> metrics;
};

// How many workers rerun `jobs` side by side: `requested` (--jobs) if > 0, else the cores over the
// thread count most of them recorded, at most one per run.
int rerun_workers(int requested, const std::vector<RerunJob>& jobs);

// Runs every job on `workers` workers (jobs whose memory limits differ on pools in turn); `ended`
// hears each as its worker reports its end, in the order they end. Runs the user's stop cut short
// are not heard. Returns the stop signal (0: every job ended). Throws HostError when the workers
// fail (cannot start, the disk), with nothing recorded, as a rerun records nothing.
int run_reruns(const std::vector<RerunJob>& jobs, int workers, bool warm_cache,
               const std::function<void(const RerunJob&, const RerunResult&)>& ended);

} // namespace iclr
