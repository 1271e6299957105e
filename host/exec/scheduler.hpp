// The worker pool: spawns `iclr __worker` processes, feeds them trials, reports runs to a sink.
#pragma once

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/results_layout.hpp"
#include "exec/protocol.hpp"
#include "exec/sink.hpp"

namespace iclr {

struct QueuedTrial {
    int64_t run_id = 0;
    uint64_t index = 0; // trial index in its arm's expansion
    uint32_t arm = 0;   // which arm of the sweep (0 when it has none)
    float cost = 0;     // expected cost relative to the other trials' (run_plan.hpp's TrialCosts, comparable)
    // > 0: this trial's own torch thread count (jobs = "auto" gives the last trials the cores that
    // would idle beside them); it starts only when no trial with the pool's count is running.
    int threads = 0;
    // > 0: this trial's own timeout in seconds, else the pool's (a queue of several sweeps' trials,
    // whose pool has none, gives each its sweep's).
    float timeout_s = 0;
};

// What the pool sends for a trial: the TOML payload for the worker and a label for progress
// lines. Built when the trial is dispatched, so a long queue holds 32 bytes a trial, not its text.
struct TrialText {
    std::string payload;
    std::string label; // "model.width=64 seed=0"
    // Where the trial's full log goes; empty: the pool's layout's log_file(run) (`iclr rerun`
    // gives each run its own folder).
    std::filesystem::path log_file = {};
};
using DescribeTrial = std::function<TrialText(const QueuedTrial&)>;

struct SchedulerOptions {
    int jobs = 1;
    // torch threads per trial, unless the trial names its own: a trial's numbers depend on it in
    // the last bits (libtorch's reductions split by thread), so it is fixed by the plan and never
    // follows the pool's timing.
    int threads = 1;
    double timeout_s = 0;
    int64_t memory_mb = 0;
    ResultsLayout layout; // where each run's full log goes
    DescribeTrial describe;
    std::string worker_exe; // "" = this executable
    // GPUs to pin workers to (devices.hpp), each worker to one; empty = none pinned. The caller
    // keeps jobs within devices::max_jobs.
    std::vector<std::string> gpus = {};
    // A worker that reports its trial cancelled when this pool sent no stop was signalled from
    // outside. Inside a Slurm array task that is the job ending (Slurm signals every process of it,
    // the workers possibly first): stop as if signalled too, instead of starting another trial that
    // the same ending would cut short. A local pool goes on with the other trials.
    bool stop_when_a_worker_is_signalled = false;
    // Each payload's plugins are only constructed (protocol: CHECK), no log file is written, and
    // the sink hears how each check ended as if it were a trial (cli/constructor_check).
    bool construct_only = false;
    // run() returns once the queue is done and no trial runs, leaving its workers (ready, their
    // libraries loaded) for the next run() after reconfigure(): the constructor check's worker
    // runs the sweep's first trials instead of a second worker loading libtorch again.
    bool keep_workers = false;
    // Which sweep the trials belong to, sent with each payload: a worker kept for the next sweep
    // (`iclr run A B`) lets go of the data sets it holds when the scope changes, so that it holds
    // what one sweep alone would. "" = never changes.
    std::string data_scope = {};
    // After this many failed or timed-out trials no more start (the running ones finish and the
    // rest stay pending for the next `iclr run`); 0 = no limit.
    int64_t max_failures = 0;
    // What the error says after the cause when the database or the workers fail mid-run: what the
    // caller keeps and how to go on (`iclr rerun` records nothing, so keeps nothing).
    std::string after_failure = "finished trials are kept: free the cause and run the same command again";
};

struct SchedulerResult {
    int64_t done = 0, failed = 0, interrupted = 0, diverged = 0;
    int stop_signal = 0;           // SIGINT / SIGTERM when the user stopped the sweep
    bool worker_signalled = false; // a worker's cancelled trial began the stop (stop_when_a_worker_is_signalled)
    int64_t held_back = 0;         // trials not started because max_failures was reached
    // A trial that ended so: counted by its status (a timeout is a failure).
    void count(RunStatus s) {
        if (s == RunStatus::Done)
            ++done;
        else if (s == RunStatus::Interrupted)
            ++interrupted;
        else if (s == RunStatus::Diverged)
            ++diverged;
        else
            ++failed;
    }
    int64_t ended() const { return done + failed + interrupted + diverged; }
};

class Scheduler {
  public:
    Scheduler(SchedulerOptions opts, RunSink& sink);
    // A pool whose workers (opts.jobs) start now, before there is a queue or a sink: their libraries
    // load (about 0.6 s) while the caller prepares the first run(), which needs reconfigure() first,
    // as after a keep_workers run. The constructor check collects its configurations meanwhile.
    static std::unique_ptr<Scheduler> prestarted(SchedulerOptions opts);
    ~Scheduler(); // kills workers a keep_workers run left
    // New options and sink for the next run(), the workers kept: needed after a keep_workers run.
    // Kept workers started under another memory limit, GPUs or executable are let go, and so are
    // those beyond opts.jobs: the next run starts what it needs.
    void reconfigure(SchedulerOptions opts, RunSink& sink);
    // Runs the queue to the end, or until a stop signal (see stop_signal.hpp). Throws HostError
    // when the sink fails (database, disk) or workers keep dying while starting; every worker is
    // killed first, so nothing runs unrecorded.
    SchedulerResult run(std::deque<QueuedTrial> queue);

  private:
    struct Slot; // one worker process and the trial it runs
    using Clock = std::chrono::steady_clock;

    void loop();
    void begin_stop_if_signalled();
    explicit Scheduler(SchedulerOptions opts); // prestarted()'s: no sink yet
    void keep_pool_full();
    void start_worker();
    TrialText describe(const QueuedTrial& q) const;
    void dispatch(Slot& s, const QueuedTrial& q);
    void start(Slot& s, const QueuedTrial& q, std::string label, std::filesystem::path log);
    void send_checks_ahead();
    void next_sent(Slot& s);
    bool may_start(const QueuedTrial& q) const;
    void quit_idle_workers();
    void let_go(Slot& s);
    bool any_alive() const;
    bool any_running() const; // a worker runs a trial
    void wait_for_output();
    void on_record(Slot& s, const protocol::Record& r);
    void log_line(Slot& s, std::string_view line, bool cut);
    void finish(Slot& s, RunEnd e);
    void reap(Slot& s);
    void police_channels();
    void reap_exited_workers();
    void kill_timed_out();
    [[noreturn]] void give_up_on_startup();
    void kill_all();
    void kill_orphans();

    SchedulerOptions opts_;
    RunSink* sink_ = nullptr; // null after a keep_workers run until reconfigure()
    bool kept_ = false;       // the last run kept its workers
    std::deque<QueuedTrial> queue_;
    std::vector<std::unique_ptr<Slot>> slots_;
    SchedulerResult result_;
    bool stopping_ = false;
    Clock::time_point stop_deadline_;
    int startup_failures_ = 0; // workers that died before saying ready
    std::string startup_tail_;
};

// The payload with its data scope first (SchedulerOptions::data_scope; a payload's top-level keys come
// before its parts): for a caller whose trials' scopes differ within one run.
std::string with_data_scope(const std::string& scope, std::string payload);

// `pool` (workers a keep_workers run left) reconfigured for its next run(), or, when there is none,
// a new pool in it.
Scheduler& reuse_or_start(std::unique_ptr<Scheduler>& pool, SchedulerOptions opts, RunSink& sink);

} // namespace iclr
