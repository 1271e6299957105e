// The scheduler's decisions as pure functions, so they are unit-tested without processes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/run_record.hpp"

namespace iclr::policy {

// Workers that die before saying ready, this many times in one sweep, stop it: the worker binary
// or libtorch is broken, and every trial would fail the same way.
constexpr int kMaxStartupFailures = 3;

// How many workers to start now: enough for `target` at once, never more than there is work for
// (busy workers plus queued trials).
size_t workers_to_start(size_t alive, size_t busy, size_t queued, size_t target);

// jobs = "auto" runs one one-thread trial per core. When the queue does not divide by the pool,
// its last N mod jobs trials would run with cores idle beside them; they can instead wait until
// the others are done and share every core, each with cores / r threads. From the queue's
// expected costs (longest first), how many trials at its end should do that: r, or 0 when waiting
// is not expected to finish sooner (the trials left are short next to those still running).
size_t tail_trials(const std::vector<float>& costs, int jobs, int cores);
// What a trial's second core (and each one after) is assumed to be worth: a 1.3x speed-up at two
// threads, the least `make bench` measures (small MLPs 1.3x, a 1,024-wide MLP 1.7x).
constexpr double kExtraThreadGain = 0.3;

// A trial past its timeout: its worker is killed (a trial cannot be stopped from outside otherwise).
bool past_timeout(double elapsed_s, double timeout_s);

// A worker whose record channel reached end of file is given this long to exit; still alive after
// it, it (or a plugin in it) closed the channel, and nothing it does can be recorded any more.
constexpr double kChannelCloseGrace_s = 1.0;

// Why the worker running a trial is gone. The facts at the time it was reaped:
struct DeadWorker {
    int wait_status = 0;    // as from waitpid
    bool timed_out = false; // the scheduler killed it for the timeout
    int stop_signal = 0;    // SIGINT/SIGTERM when the user is stopping the sweep, else 0
    double timeout_s = 0;
    std::string channel_problem; // why the scheduler killed it for its record channel, or ""
};
// timeout (we killed it for the timeout) > interrupted (the user is stopping) > failed, with the
// channel problem as the reason when there is one, else how it died.
RunEnd outcome_of(const DeadWorker& d);

} // namespace iclr::policy
