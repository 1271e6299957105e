// Scheduler decisions: pool size, timeouts, and the recorded outcome of a worker that died.
#include "exec/policy.hpp"

#include <sys/wait.h>

#include <algorithm>

#include "common/duration.hpp"
#include "common/process.hpp"

namespace iclr::policy {

size_t workers_to_start(size_t alive, size_t busy, size_t queued, size_t target) {
    size_t wanted = std::min(target, busy + queued);
    return wanted > alive ? wanted - alive : 0;
}

namespace {
// The longest-processing-time schedule's end: each trial, in order, to the worker free first. A
// trial costs one unit more than its estimate (a worker's start, and trials with no estimate).
double makespan(const std::vector<float>& costs, size_t n, int jobs) {
    std::vector<double> free_at(size_t(jobs), 0.0);
    for (size_t i = 0; i < n; ++i)
        *std::min_element(free_at.begin(), free_at.end()) += 1.0 + costs[i];
    return *std::max_element(free_at.begin(), free_at.end());
}
} // namespace

size_t tail_trials(const std::vector<float>& costs, int jobs, int cores) {
    if (jobs < 2 || costs.empty()) return 0;
    size_t r = costs.size() % size_t(jobs);
    if (r == 0 || cores / int(r) < 2) return 0;
    size_t head = costs.size() - r;
    double longest = 1.0 + *std::max_element(costs.begin() + long(head), costs.end());
    double speedup = 1 + kExtraThreadGain * (cores / int(r) - 1);
    return makespan(costs, head, jobs) + longest / speedup < makespan(costs, costs.size(), jobs) ? r : 0;
}

bool past_timeout(double elapsed_s, double timeout_s) { return timeout_s > 0 && elapsed_s > timeout_s; }

RunEnd outcome_of(const DeadWorker& d) {
    RunEnd e;
    if (WIFSIGNALED(d.wait_status)) e.signal = WTERMSIG(d.wait_status);
    if (WIFEXITED(d.wait_status)) e.exit_code = WEXITSTATUS(d.wait_status);
    if (d.timed_out) {
        e.status = RunStatus::Timeout;
        e.error = "exceeded the trial timeout of " + format_duration(d.timeout_s) + "; worker killed";
    } else if (d.stop_signal) {
        e.status = RunStatus::Interrupted;
        e.error = "stopped by " + signal_name(d.stop_signal);
    } else if (!d.channel_problem.empty()) {
        e.status = RunStatus::Failed;
        e.error = d.channel_problem + "; worker killed";
    } else {
        e.status = RunStatus::Failed;
        e.error = "worker died: " + describe_status(d.wait_status);
    }
    return e;
}

} // namespace iclr::policy
