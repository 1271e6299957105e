// Worker pool: how workers end — reaped, timed out, killed for their channel or a stop signal.
#include <signal.h>

#include <chrono>
#include <string>

#include "common/errors.hpp"
#include "common/process.hpp"
#include "exec/policy.hpp"
#include "exec/scheduler.hpp"
#include "exec/scheduler_slot.hpp"
#include "exec/stop_signal.hpp"

namespace iclr {
namespace {
constexpr auto kStopGrace = std::chrono::seconds(3); // SIGTERM first, SIGKILL after this
} // namespace

void Scheduler::begin_stop_if_signalled() {
    int sig = stop_signal() ? stop_signal() : result_.worker_signalled ? SIGTERM : 0;
    if (sig && !stopping_) {
        stopping_ = true;
        result_.stop_signal = sig;
        stop_deadline_ = Clock::now() + kStopGrace;
        for (auto& s : slots_)
            s->proc.kill(SIGTERM); // the worker cancels its trial and reports it interrupted
    }
    if (stopping_ && Clock::now() > stop_deadline_)
        for (auto& s : slots_)
            s->proc.kill(SIGKILL);
}

void Scheduler::reap(Slot& s) {
    int status = s.proc.reap([&](const protocol::Record& r) { on_record(s, r); },
                             [&](std::string_view l, bool cut) { log_line(s, l, cut); });
    if (!s.ready && !stopping_ && !s.killed_by_host) {
        ++startup_failures_;
        // The first worker's own cause: later ones may be the host's kills when it gives up.
        if (startup_tail_.empty())
            startup_tail_ =
                s.tail.empty() ? describe_status(status) : s.tail.back() + " (" + describe_status(status) + ")";
    }
    if (s.run >= 0)
        finish(s, policy::outcome_of(
                      {status, s.timed_out, stopping_ ? result_.stop_signal : 0, s.timeout_s, s.channel_problem}));
    next_sent(s); // the checks sent ahead that it did not run go back to the queue
}

// A worker whose record channel carried garbage, or was closed while the worker lives, cannot
// report its trial truthfully: it is killed and its trial recorded failed with the reason.
void Scheduler::police_channels() {
    for (auto& s : slots_) {
        if (!s->alive() || !s->channel_problem.empty()) continue;
        std::string problem = s->proc.channel_error();
        if (problem.empty() && s->proc.records_closed() && !s->proc.exited()) {
            if (!s->records_closed_at) s->records_closed_at = Clock::now();
            double waited = std::chrono::duration<double>(Clock::now() - *s->records_closed_at).count();
            if (waited > policy::kChannelCloseGrace_s)
                problem = "the worker's record channel was closed while it was still running (a plugin closed "
                          "file descriptors it did not own?)";
        }
        if (problem.empty()) continue;
        s->channel_problem = problem;
        s->killed_by_host = true;
        s->proc.kill(SIGKILL);
    }
}

// Asked of a worker whose exit fd poll() saw readable, or of each where the kernel has no pidfd:
// a waitid per worker per wake-up was a fifth of the host's system calls in a constructor check.
void Scheduler::reap_exited_workers() {
    for (auto& s : slots_)
        if (s->alive() && (s->exit_seen || s->proc.exit_fd() < 0) && s->proc.exited()) reap(*s);
}

void Scheduler::kill_timed_out() {
    for (auto& s : slots_) {
        double elapsed = std::chrono::duration<double>(Clock::now() - s->started).count();
        if (s->alive() && s->run >= 0 && !s->timed_out && policy::past_timeout(elapsed, s->timeout_s)) {
            s->timed_out = true;
            s->proc.kill(SIGKILL); // reap() records TIMEOUT when its pipes close
        }
    }
}

void Scheduler::give_up_on_startup() {
    for (auto& s : slots_)
        if (s->alive()) {
            s->killed_by_host = true;
            s->proc.kill(SIGKILL);
            reap(*s);
        }
    throw HostError("workers die while starting (`iclr __worker`): " + startup_tail_);
}

void Scheduler::kill_orphans() {
    if (int n = kill_children(); n > 0)
        std::fprintf(stderr, "iclr: killed %d process%s left behind by plugins\n", n, n == 1 ? "" : "es");
}

void Scheduler::kill_all() {
    for (auto& s : slots_)
        if (s->alive()) {
            s->proc.kill(SIGKILL);
            s->proc.reap([](const protocol::Record&) {}, [](std::string_view, bool) {});
        }
}

} // namespace iclr
