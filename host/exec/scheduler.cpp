// Worker pool loop: poll() over every worker's record and log pipes; decisions in policy.cpp.
#include "exec/scheduler.hpp"

#include <poll.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/values.hpp"
#include "exec/devices.hpp"
#include "exec/policy.hpp"
#include "exec/protocol.hpp"
#include "exec/scheduler_slot.hpp"
#include "exec/stop_signal.hpp"
#include "exec/worker_process.hpp"

namespace iclr {
namespace {
constexpr size_t kLogTailLines = 40;
constexpr size_t kTailLineBytes = 2000; // a log_tail line longer than this is cut (the log file has all)
// Checks (construct_only) sent to a worker beyond the one it runs: a check takes microseconds, so
// without them the worker waited a host round trip for each (5,000 of a million-point grid's
// configurations: a third of `iclr plan`).
constexpr size_t kChecksAhead = 8;

// The options as the pool uses them: an empty worker_exe is this executable.
SchedulerOptions with_defaults(SchedulerOptions o) {
    if (o.worker_exe.empty()) o.worker_exe = self_exe();
    return o;
}
} // namespace

Scheduler::Scheduler(SchedulerOptions opts, RunSink& sink) : opts_(with_defaults(std::move(opts))), sink_(&sink) {}

std::unique_ptr<Scheduler> Scheduler::prestarted(SchedulerOptions opts) {
    std::unique_ptr<Scheduler> pool(new Scheduler(std::move(opts)));
    pool->kept_ = true;               // killed by ~Scheduler if no run() comes
    prctl(PR_SET_CHILD_SUBREAPER, 1); // as run() does: orphans of their children come here
    for (int n = 0; n < std::max(1, pool->opts_.jobs); ++n)
        pool->start_worker();
    return pool;
}

Scheduler::Scheduler(SchedulerOptions opts) : opts_(with_defaults(std::move(opts))) {}

void Scheduler::reconfigure(SchedulerOptions opts, RunSink& sink) {
    SchedulerOptions next = with_defaults(std::move(opts));
    // A worker's memory limit, GPU and executable are fixed when it starts.
    bool same_start =
        next.memory_mb == opts_.memory_mb && next.gpus == opts_.gpus && next.worker_exe == opts_.worker_exe;
    int keep = same_start ? std::max(1, next.jobs) : 0;
    for (auto& s : slots_) // none runs a trial after a keep_workers run; some may still be starting
        if (s->alive() && !s->leaving && keep-- <= 0) let_go(*s);
    opts_ = std::move(next);
    sink_ = &sink;
}

Scheduler& reuse_or_start(std::unique_ptr<Scheduler>& pool, SchedulerOptions opts, RunSink& sink) {
    if (pool)
        pool->reconfigure(std::move(opts), sink);
    else
        pool = std::make_unique<Scheduler>(std::move(opts), sink);
    return *pool;
}

// Workers a keep_workers run left: stopped, and whatever their plugins started with them.
Scheduler::~Scheduler() {
    if (!kept_) return;
    kill_all();
    kill_orphans();
}

SchedulerResult Scheduler::run(std::deque<QueuedTrial> queue) {
    // A keep_workers run's callbacks belonged to that run: the next needs its own (reconfigure).
    if (!sink_) throw std::logic_error("Scheduler::run after a keep_workers run without reconfigure()");
    queue_ = std::move(queue);
    result_ = {};
    stopping_ = false;
    startup_failures_ = 0;
    startup_tail_.clear();
    // Orphans of the workers' children (a plugin's double fork, setsid) come to this process
    // instead of init, so that none outlives the sweep (kill_orphans at the end).
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    try {
        loop();
        if (opts_.keep_workers && any_alive()) {
            kept_ = true; // their children too: killed with them (~Scheduler) or after the next run
            opts_.describe = nullptr;
            sink_ = nullptr;
        } else {
            kept_ = false;
            kill_orphans();
        }
    } catch (const std::exception& e) {
        // The database (or the disk under it) failed: stop every worker so nothing runs unrecorded.
        // Committed trials are safe (WAL); the trials that were running stay 'running' and the next
        // `iclr run` marks them interrupted and reruns them.
        kill_all();
        kill_orphans();
        throw HostError(std::string(e.what()) + "; " + opts_.after_failure);
    }
    return result_;
}

void Scheduler::loop() {
    while (true) {
        begin_stop_if_signalled();
        if (!stopping_) {
            keep_pool_full();
            for (auto& s : slots_) {
                if (queue_.empty() || !may_start(queue_.front())) break;
                if (s->idle()) {
                    dispatch(*s, queue_.front());
                    queue_.pop_front();
                }
            }
            send_checks_ahead();
            if (queue_.empty() && !opts_.keep_workers) quit_idle_workers();
            if (queue_.empty() && opts_.keep_workers && !any_running()) return;
        }
        if (!any_alive() && (queue_.empty() || stopping_)) return;
        wait_for_output();
        police_channels();
        reap_exited_workers();
        if (startup_failures_ >= policy::kMaxStartupFailures) give_up_on_startup();
        kill_timed_out();
        sink_->idle();
        // Forget reaped workers so the pool's bookkeeping stays small on long sweeps.
        std::erase_if(slots_, [](const std::unique_ptr<Slot>& s) { return !s->alive(); });
    }
}

void Scheduler::keep_pool_full() {
    size_t alive = 0, busy = 0;
    for (auto& s : slots_) { // one let go is not counted: it will not run what is queued
        alive += s->alive() && !s->leaving;
        busy += s->alive() && s->run >= 0;
    }
    size_t target = size_t(std::max(1, opts_.jobs));
    for (size_t n = policy::workers_to_start(alive, busy, queue_.size(), target); n > 0; --n)
        start_worker();
}

void Scheduler::start_worker() {
    std::map<std::string, int> in_use;
    for (auto& s : slots_)
        if (s->alive() && !s->gpu.empty()) ++in_use[s->gpu];
    slots_.push_back(std::make_unique<Slot>(opts_.worker_exe, opts_.memory_mb, devices::pick(opts_.gpus, in_use)));
}

// A trial with its own thread count waits until the pool's trials are done: started beside them,
// its threads would take cores they use.
bool Scheduler::may_start(const QueuedTrial& q) const {
    if (q.threads <= 0) return true;
    for (const auto& s : slots_)
        if (s->alive() && s->run >= 0 && !s->own_threads) return false;
    return true;
}

std::string with_data_scope(const std::string& scope, std::string payload) {
    return "data_scope = " + value_to_toml(Value::of_string(scope)) + "\n" + payload;
}

// The caller's text, with the data scope first.
TrialText Scheduler::describe(const QueuedTrial& q) const {
    TrialText text = opts_.describe(q);
    if (!opts_.data_scope.empty()) text.payload = with_data_scope(opts_.data_scope, std::move(text.payload));
    return text;
}

void Scheduler::dispatch(Slot& s, const QueuedTrial& q) {
    TrialText text = describe(q);
    std::string bytes =
        opts_.construct_only ? protocol::encode_check(text.payload) : protocol::encode_trial(text.payload);
    s.run_bytes = bytes.size();
    start(s, q, std::move(text.label), text.log_file);
    s.proc.send(bytes); // if the worker died, reap() records the failure
}

// What the slot's trial begins with once the worker runs it: its clock, its log, its run's start.
void Scheduler::start(Slot& s, const QueuedTrial& q, std::string label, std::filesystem::path log) {
    s.run = q.run_id;
    s.own_threads = q.threads > 0;
    s.timeout_s = q.timeout_s > 0 ? q.timeout_s : opts_.timeout_s;
    s.label = std::move(label);
    s.started = Clock::now();
    s.tail.clear();
    if (!opts_.construct_only) {
        if (log.empty()) log = opts_.layout.log_file(q.run_id);
        std::error_code ec;
        std::filesystem::create_directories(log.parent_path(), ec);
        s.log_file = std::make_unique<std::ofstream>(log, std::ios::app);
    }
    int threads = q.threads > 0 ? q.threads : opts_.threads;
    sink_->run_started(RunStart{q.run_id, int64_t(s.proc.pid()), threads, devices::recorded(s.device, s.gpu),
                                host_name(), s.torch_version, "", s.kernels});
}

// construct_only: each busy worker gets the next checks before it finishes its current one. A
// trial is never sent ahead: it would be bound to a worker before the pool knows which is free.
// What a worker's stdin holds unread is at most half its pipe's size, so that the host never blocks
// writing to a worker whose constructor hangs (its timeout would never come).
void Scheduler::send_checks_ahead() {
    if (!opts_.construct_only) return;
    for (auto& s : slots_) {
        size_t room = s->proc.input_capacity() / 2;
        std::string bytes; // one write for the checks sent now
        while (!queue_.empty() && s->alive() && s->run >= 0 && !s->leaving && s->proc.can_send() &&
               s->ahead.size() < kChecksAhead && s->sent_bytes() + s->run_bytes <= room) {
            TrialText text = describe(queue_.front()); // checks of one sweep are about the same size
            std::string check = protocol::encode_check(text.payload);
            if (s->sent_bytes() + check.size() > room) break;
            s->ahead.push_back({queue_.front(), std::move(text.label), check.size()});
            queue_.pop_front();
            bytes += check;
        }
        if (!bytes.empty()) s->proc.send(bytes); // if the worker died, reap() puts them back in the queue
    }
}

// After the slot's trial ended: the next check sent ahead is its trial now, unless the worker is
// leaving or gone, which will not run them: back to the queue's front, in order, as never sent.
void Scheduler::next_sent(Slot& s) {
    if (s.ahead.empty()) return;
    if (s.alive() && !s.leaving && !s.timed_out && !s.killed_by_host && !stopping_) {
        Slot::Sent next = std::move(s.ahead.front());
        s.ahead.pop_front();
        s.run_bytes = next.bytes;
        start(s, next.q, std::move(next.label), {}); // a check: no log
        return;
    }
    for (auto it = s.ahead.rbegin(); it != s.ahead.rend(); ++it)
        queue_.push_front(it->q);
    s.ahead.clear();
}

void Scheduler::quit_idle_workers() {
    for (auto& s : slots_)
        if (s->idle()) let_go(*s);
}

// The worker is told to exit once it has read what it was sent; it runs nothing more.
void Scheduler::let_go(Slot& s) {
    if (s.proc.can_send()) s.proc.send(protocol::encode_quit());
    s.proc.close_input();
    s.leaving = true;
}

bool Scheduler::any_alive() const {
    for (const auto& s : slots_)
        if (s->alive()) return true;
    return false;
}

bool Scheduler::any_running() const {
    for (const auto& s : slots_)
        if (s->alive() && s->run >= 0) return true;
    return false;
}

void Scheduler::wait_for_output() {
    enum class Pipe { Records, Log, Exit };
    std::vector<pollfd> fds{{stop_signal_fd(), POLLIN, 0}};
    std::vector<std::pair<Slot*, Pipe>> who{{nullptr, Pipe::Exit}};
    for (auto& s : slots_) {
        if (!s->alive()) continue;
        for (auto [fd, pipe] : {std::pair{s->proc.record_fd(), Pipe::Records}, std::pair{s->proc.log_fd(), Pipe::Log},
                                std::pair{s->proc.exit_fd(), Pipe::Exit}})
            if (fd >= 0) {
                fds.push_back({fd, POLLIN, 0});
                who.emplace_back(s.get(), pipe);
            }
    }
    int n = poll(fds.data(), nfds_t(fds.size()), 100);
    if (n < 0 && errno != EINTR) throw HostError(std::string("poll: ") + std::strerror(errno));
    if (fds[0].revents) drain_stop_signal_fd();
    for (size_t k = 1; k < fds.size(); ++k) {
        if (!fds[k].revents) continue;
        Slot& s = *who[k].first;
        if (who[k].second == Pipe::Records) s.proc.read_records([&](const protocol::Record& r) { on_record(s, r); });
        if (who[k].second == Pipe::Log) s.proc.read_log([&](std::string_view l, bool cut) { log_line(s, l, cut); });
        if (who[k].second == Pipe::Exit) s.exit_seen = true; // reap_exited_workers() reaps it
    }
}

void Scheduler::on_record(Slot& s, const protocol::Record& r) {
    using K = protocol::Record::Kind;
    if (r.kind == K::Ready) {
        s.ready = true;
        s.device = r.device;
        s.torch_version = r.torch_version;
        s.kernels = r.kernels;
        return;
    }
    if (r.run != s.run) return; // a record of a trial already closed (e.g. timed out): ignore
    switch (r.kind) {
    case K::Metric:
        return sink_->metric(r.run, r.key, r.step, r.task, r.value);
    case K::Attribute:
        return sink_->attribute(r.run, r.key, r.text);
    case K::Artifact:
        return sink_->artifact(r.run, r.key, r.text);
    case K::Done:
        finish(s, RunEnd{r.run, RunStatus::Done, "", "", std::nullopt, std::nullopt, 0, std::nullopt, ""});
        return next_sent(s);
    case K::Error: {
        RunEnd e{r.run, r.status, r.text, "", std::nullopt, std::nullopt, 0, std::nullopt, ""};
        if (r.status == RunStatus::Diverged) e.diverged_step = r.step;
        if (r.status == RunStatus::Interrupted) {
            s.leaving = true;
            if (!stopping_ && opts_.stop_when_a_worker_is_signalled) result_.worker_signalled = true;
        }
        finish(s, e);
        return next_sent(s);
    }
    case K::Ready:
        return;
    }
}

void Scheduler::log_line(Slot& s, std::string_view line, bool cut) {
    if (s.log_file) *s.log_file << line << (cut ? "" : "\n");
    if (!s.mid_line) {
        s.tail.emplace_back(line.substr(0, kTailLineBytes));
        if (line.size() > kTailLineBytes || cut) s.tail.back() += " [cut]";
        if (s.tail.size() > kLogTailLines) s.tail.pop_front();
    }
    s.mid_line = cut;
}

void Scheduler::finish(Slot& s, RunEnd e) {
    if (s.run < 0) return;
    // Output the trial printed without a final newline is its own, not the next trial's. (Not a
    // check's: those sent after it may have printed already, and its tail is not kept.)
    if (!opts_.construct_only) {
        s.proc.read_log([&](std::string_view l, bool cut) { log_line(s, l, cut); });
        if (std::string rest = s.proc.take_log_rest(); !rest.empty()) log_line(s, rest, false);
        s.mid_line = false;
    }
    e.run = s.run;
    e.duration_s = std::chrono::duration<double>(Clock::now() - s.started).count();
    for (const auto& l : s.tail)
        e.log_tail += l + "\n";
    result_.count(e.status);
    if (opts_.max_failures > 0 && result_.failed >= opts_.max_failures && !queue_.empty()) {
        result_.held_back += int64_t(queue_.size()); // a systematic failure would fail them too
        queue_.clear();
    }
    if (s.log_file) s.log_file->flush();
    s.log_file.reset();
    std::string label = std::move(s.label);
    s.run = -1; // timed_out stays: the worker was killed, and the checks sent ahead will not run
    sink_->run_finished(e, label);
}

} // namespace iclr
