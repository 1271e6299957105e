// Scheduler decisions: pool size, timeouts, and the recorded outcome of a worker that died.
#include "exec/policy.hpp"

#include <sys/wait.h>

#include "common/duration.hpp"
#include "common/process.hpp"

namespace iclr::policy {

size_t workers_to_start(size_t alive, size_t busy, size_t queued, size_t target) {
    size_t wanted = std::min(target, busy + queued);
    return wanted > alive ? wanted - alive : 0;
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
