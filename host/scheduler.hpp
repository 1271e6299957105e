// The worker pool: spawns `iclr __worker` processes, feeds them trials, streams records to SQLite.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "progress.hpp"
#include "store.hpp"

namespace iclr {

struct QueuedTrial {
    int64_t run_id = 0;
    uint64_t index = 0; // trial index in the sweep's expansion
};

// What the pool sends for a trial: the TOML payload for the worker and a label for progress
// lines. Built when the trial is dispatched, so a long queue holds 16 bytes a trial, not its text.
struct TrialText {
    std::string payload;
    std::string label; // "model.width=64 seed=0"
};
using DescribeTrial = std::function<TrialText(const QueuedTrial&)>;

struct SchedulerOptions {
    int jobs = 1;
    int threads = 1;
    double timeout_s = 0;
    int64_t memory_mb = 0;
    std::string logs_dir;
    DescribeTrial describe;
};

struct SchedulerResult {
    int64_t done = 0, failed = 0, interrupted = 0;
    int stop_signal = 0; // SIGINT / SIGTERM when the user stopped the sweep
};

class Scheduler {
  public:
    Scheduler(Store& store, SchedulerOptions opts, Progress& progress);
    SchedulerResult run(std::deque<QueuedTrial> queue);

  private:
    Store& store_;
    SchedulerOptions opts_;
    Progress& progress_;
};

// Installs the SIGINT/SIGTERM handlers that let Scheduler::run stop cleanly.
void install_stop_handlers();

} // namespace iclr
