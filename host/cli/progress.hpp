// Live progress: one rewriting line on a terminal, plain lines otherwise; failures always shown.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/eta.hpp"
#include "common/run_status.hpp"
#include "exec/scheduler.hpp"

namespace iclr {

// Each trial's expected cost by run, for Progress: from queued or frozen trials (run_id, cost).
template <class Trials> std::unordered_map<int64_t, float> cost_by_run(const Trials& trials) {
    std::unordered_map<int64_t, float> costs;
    for (const auto& t : trials)
        costs[t.run_id] = t.cost;
    return costs;
}

class Progress {
  public:
    // cost_by_run: each trial's expected cost (cost_by_run above), for an ETA that knows the queue
    // runs longest first (eta.hpp); without it, wall time per finished trial times the trials left.
    Progress(int64_t total, bool tty, std::unordered_map<int64_t, float> cost_by_run = {});
    // Several sweeps in one queue: each sweep's trials' costs (GroupEta).
    Progress(int64_t total, bool tty, std::vector<std::unordered_map<int64_t, float>> cost_by_run_by_sweep);
    void started(int64_t run);
    void stopped(int64_t run); // a running trial stopped unfinished, to be run again (Slurm requeue)
    void finished(int64_t run, RunStatus status, double seconds, const std::string& label, const std::string& error);
    void tick(); // redraws the live line at most every 200 ms (tty only)
    void clear_line();
    int64_t done() const { return ended_.done; }
    int64_t failed() const { return ended_.failed; }
    int64_t interrupted() const { return ended_.interrupted; }
    int64_t diverged() const { return ended_.diverged; }

  private:
    std::string line() const;
    std::string eta() const;
    double elapsed() const;
    int64_t total_;
    bool tty_;
    SchedulerResult ended_; // the trials finished, by how they ended
    int64_t running_ = 0;
    std::chrono::steady_clock::time_point start_, last_draw_;
    std::optional<GroupEta> cost_eta_;
};

} // namespace iclr
