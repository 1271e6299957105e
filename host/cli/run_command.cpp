// `iclr run SWEEP`: validate, record the sweep, skip finished trials, run the rest on the pool.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/constructor_check.hpp"
#include "cli/plugin_provenance.hpp"
#include "cli/query_check.hpp"
#include "cli/run_plan.hpp"
#include "cli/run_sink.hpp"
#include "cli/slurm_launch.hpp"
#include "common/duration.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "exec/devices.hpp"
#include "exec/policy.hpp"
#include "exec/scheduler.hpp"
#include "exec/stop_signal.hpp"
#include "store/run_lock.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/trial.hpp"

namespace iclr {
namespace {

// The next step once the trials are done, with the same flags (they pick the trials) and database.
void print_claims_step(const SweepSpec& spec, const RunOptions& o) {
    if (o.sweeps.size() > 1) return; // run_several prints one for every sweep at the end
    if (!spec.claims.empty())
        fmt::print("claims: iclr verify {}{}{}\n", shell_word(o.sweep), o.variant.flags(), o.common.db_flag());
}

// jobs = "auto": the last trials that would leave cores idle beside them wait for the rest and
// share the cores (policy::tail_trials); each one's thread count is fixed here, by the plan.
void give_tail_the_cores(std::deque<QueuedTrial>& queue, int jobs) {
    std::vector<float> costs;
    for (const auto& q : queue)
        costs.push_back(q.cost);
    size_t r = policy::tail_trials(costs, jobs, available_cores());
    if (r == 0) return;
    int threads = available_cores() / int(r);
    for (size_t i = queue.size() - r; i < queue.size(); ++i)
        queue[i].threads = threads;
    fmt::print("jobs = auto: the last {} trial(s) run once the others are done, with {} thread(s) each\n", r, threads);
}

} // namespace

int report_outcome(const SweepSpec& spec, const SchedulerResult& r, int64_t total, int64_t skipped, int64_t sweep_id,
                   double secs, const std::string& db_arg, int64_t max_failures, const std::string& earlier) {
    int64_t not_started = total - r.ended();
    fmt::print("sweep {}: {} done, {} failed, {} interrupted{}{}, {} skipped (already done) in {}\n", spec.name, r.done,
               r.failed, r.interrupted, r.diverged ? fmt::format(", {} diverged", r.diverged) : "",
               not_started > 0 ? fmt::format(", {} not started", not_started) : "", skipped, format_duration(secs));
    if (!earlier.empty()) fmt::print("{}\n", earlier);
    if (r.diverged)
        fmt::print("diverged: iclr query{} \"SELECT id, diverged_step, error FROM runs WHERE sweep_id = {} AND "
                   "status = 'diverged'\"\n",
                   db_arg, sweep_id);
    if (r.failed)
        fmt::print(
            "failures: iclr query{} \"SELECT id, status, error FROM runs WHERE sweep_id = {} AND status <> 'done'\"\n",
            db_arg, sweep_id);
    if (r.stop_signal) {
        fmt::print("stopped by {}; run the same command again to finish the remaining trials\n",
                   signal_name(r.stop_signal));
        return 128 + r.stop_signal;
    }
    if (r.held_back)
        fmt::print("stopped starting trials after {} failed (max_failures = {}); {} not started: mend the cause "
                   "and run the same command again (the failed and the unstarted trials run, done ones are "
                   "skipped)\n",
                   r.failed, max_failures, r.held_back);
    return r.failed ? 1 : 0;
}

int requested_jobs(const RunOptions& o, const SweepSpec& spec) {
    return o.jobs.empty() ? spec.jobs : o.jobs == "auto" ? 0 : std::stoi(o.jobs);
}

// --jobs, --threads and --gpus (else the sweep's), with "auto" resolved against the cores and the
// trials left to run; printed, since the choice moves both speed and a trial's last bits.
Parallelism choose_parallelism(const RunOptions& o, const SweepSpec& spec, std::deque<QueuedTrial>& queue) {
    Parallelism p;
    auto total = int64_t(queue.size());
    p.jobs = requested_jobs(o, spec);
    bool auto_jobs = p.jobs == 0;
    if (auto_jobs) { // auto: every core busy with a trial of its own (one thread each beat two threads
                     // on one trial by 1.4x on small MLPs, `make bench`), fewer when fewer trials are left
        p.jobs = int(std::clamp<int64_t>(std::min<int64_t>(available_cores(), total), 1, 256));
        fmt::print("jobs = auto: {} core(s), {} trial(s) to run -> {} job(s)\n", available_cores(), total, p.jobs);
    }
    p.gpus = sweep_gpus(o, spec);
    p.max_failures = max_failures_of(o, spec);
    int per_gpu = o.trials_per_gpu > 0 ? o.trials_per_gpu : spec.trials_per_gpu;
    if (int capped = devices::max_jobs(p.jobs, p.gpus.size(), per_gpu); capped < p.jobs) {
        fmt::print("{} GPU(s) x {} trial(s) each: {} job(s) at once, not {}\n", p.gpus.size(), per_gpu, capped, p.jobs);
        p.jobs = capped;
    }
    p.threads = o.threads > 0 ? o.threads : std::max(1, available_cores() / p.jobs);
    if (auto_jobs && o.threads <= 0 && p.gpus.empty()) give_tail_the_cores(queue, p.jobs);
    return p;
}

// Another process (a sqlite3 shell in a transaction, a backup) may hold the database's write lock:
// wait for it, saying so every 30 s, until it lets go or the user stops the sweep.
std::unique_ptr<Store> open_store_for_run(const std::string& db_path, bool recover) {
    auto store = Store::open_write(db_path);
    store->set_lock_wait([&db_path, said = -30.0](double waited) mutable {
        if (stop_signal()) return false;
        if (waited >= 5.0 && waited - said >= 30.0) {
            said = waited;
            fmt::print(stderr, "iclr: waiting for another process's write lock on {} ({:.0f} s so far)\n", db_path,
                       waited);
        }
        return true;
    });
    if (int n = recover ? store->recover_stale_running() : 0)
        fmt::print("{} run(s) left running by an earlier host are now marked interrupted\n", n);
    return store;
}

namespace {

// The constructor check (cli/constructor_check.hpp), after the lock: a second `iclr run` on a busy
// database is refused at once, not after a worker has started. A configuration a plugin refuses is
// then one error with nothing recorded (the database file the lock had to create goes again), and
// so is a stop signal during the check. Otherwise the pool holds the check's worker, for the trials.
struct CheckedPool {
    std::unique_ptr<Scheduler> pool;
    int stop_signal = 0;
};
CheckedPool check_before_recording(const SweepArms& arms, const RunOptions& o, const std::string& data_dir,
                                   const ResultsLayout& layout, const std::string& db_path, bool db_existed,
                                   std::unique_ptr<Scheduler> kept) {
    auto forget_new_db = [&] {
        std::error_code ec;
        if (!db_existed && std::filesystem::file_size(db_path, ec) == 0 && !ec) std::filesystem::remove(db_path, ec);
    };
    CheckedPool c{std::move(kept)};
    try {
        c.stop_signal =
            check_constructors(arms, run_check_settings(o, arms.base(), data_dir, layout), &c.pool).stop_signal;
    } catch (...) {
        forget_new_db();
        throw;
    }
    if (c.stop_signal) forget_new_db();
    return c;
}

// The planned trials on the worker pool, each one's records streamed into the store as they come;
// `pool`, when the constructor check or the sweep before left one, already holds ready workers,
// and holds them after the trials when another sweep follows (`keep`).
SchedulerResult run_on_pool(const SweepArms& arms, Store& store, Planned& plan, const Parallelism& p,
                            const RunOptions& o, const std::string& data_dir, const ResultsLayout& layout,
                            std::unique_ptr<Scheduler>& pool, bool keep) {
    const SweepSpec& spec = arms.base();
    Progress progress(int64_t(plan.queue.size()), isatty(STDOUT_FILENO), cost_by_run(plan.queue));
    StoreSink sink(store, progress, layout.cache_dir());
    SchedulerOptions so{p.jobs,
                        p.threads,
                        spec.timeout_s,
                        spec.memory_mb,
                        layout,
                        [&](const QueuedTrial& q) {
                            TrialPoint point = arms.expansions[q.arm]->at(q.index);
                            ResolvedTrial t = resolve_trial(arms.specs[q.arm], arms.plugins[q.arm], point);
                            return TrialText{payload(t, q.run_id, q.threads > 0 ? q.threads : p.threads, spec.memory_mb,
                                                     spec.on_nonfinite, data_dir, layout),
                                             arms.describe(q.arm, point)};
                        },
                        "",
                        p.gpus};
    so.max_failures = p.max_failures;
    so.keep_workers = keep;
    so.data_scope = data_scope(o);
    return run_recorded(reuse_or_start(pool, so, sink), std::move(plan.queue), sink, progress);
}

} // namespace

std::string data_scope(const RunOptions& o) { return absolute_path(o.sweep) + o.variant.flags(); }

CheckSettings run_check_settings(const RunOptions& o, const SweepSpec& spec, const std::string& data_dir,
                                 const ResultsLayout& layout) {
    CheckSettings c{data_dir, layout, sweep_gpus(o, spec), o.launcher == "local", data_scope(o)};
    // As many workers as the trials will use at most (choose_parallelism decides after the plan): a
    // core each, fewer under a fixed `jobs`; one on a GPU (its trials per GPU are the plan's) or for
    // a Slurm submission (the trials run elsewhere).
    int jobs = requested_jobs(o, spec);
    if (c.load_data && c.gpus.empty())
        c.workers = std::clamp(jobs == 0 ? available_cores() : jobs, 1, available_cores());
    return c;
}

int cmd_run(const RunOptions& given) {
    if (given.sweeps.size() > 1 && given.sweep.empty()) return run_several(given);
    RunOptions o = given;
    if (o.sweep.empty() && !o.sweeps.empty()) o.sweep = o.sweeps.front();
    return run_sweep(o);
}

namespace {

// The sweep handed to Slurm as job arrays, followed to its end with --wait, or left to the caller
// to follow with the other sweeps it submits (Handover::follow_later).
int sweep_on_slurm(const SlurmLaunch& l, Handover* handover) {
    const SweepSpec& spec = l.arms.base();
    if (max_failures_of(l.options, spec) > 0 && !l.options.wait)
        fmt::print("note: max_failures needs --wait on Slurm (iclr follows the array jobs and cancels their "
                   "pending tasks); without it the array tasks run on their own\n");
    int rc = 0;
    if (handover && handover->follow_later) { // the caller follows every sweep's array jobs at once
        if (auto s = submit_to_slurm(l)) handover->follow_later->push_back(std::move(*s));
    } else {
        rc = run_on_slurm(l);
        if (l.options.wait && rc < 128) print_claims_step(spec, l.options); // followed to the end, not stopped
    }
    keep_cache_limit(l.layout.cache_dir());
    return rc;
}

} // namespace

int run_sweep(const RunOptions& o) {
    say_stop_signals(" while reading the sweep and its plugins; nothing was recorded");
    PluginRegistry reg;
    reg.discover();
    SweepArms arms = load_sweep(o.sweep, o.variant, reg);
    check_run_size(arms, o.sweep);
    check_queries(arms.base());
    return run_read_sweep(o, arms, nullptr);
}

int run_read_sweep(const RunOptions& o, const SweepArms& arms, Handover* handover) {
    const SweepSpec& spec = arms.base();
    warn_stale_plugins(arms, "the trials will run it");
    note_unstated_differences(arms);
    note_unread_pretrain(arms);

    std::string db_path = o.common.db_path();
    std::string data_dir = absolute_path(o.common.data_dir());
    bool db_existed = std::filesystem::exists(db_path);
    std::optional<RunLock> lock; // unless the caller holds it for every sweep
    if (!(handover && handover->locked)) lock.emplace(db_path, spec.name);
    ResultsLayout layout(db_path);    // after the lock made the file: the layout follows its real path
    install_stop_handlers();          // from here a stop signal ends the command cleanly, nothing half-recorded
    std::unique_ptr<Scheduler> alone; // kept in the handover when another sweep follows, else here
    std::unique_ptr<Scheduler>& pool = handover ? handover->pool : alone;
    if (!o.no_construct && !(handover && handover->checked)) {
        CheckedPool c = check_before_recording(arms, o, data_dir, layout, db_path, db_existed, std::move(pool));
        if (c.stop_signal) {
            fmt::print("stopped by {} while building the plugin configurations; nothing was recorded\n",
                       signal_name(c.stop_signal));
            return 128 + c.stop_signal;
        }
        pool = std::move(c.pool);
    }
    auto store = open_store_for_run(db_path);
    if (o.launcher == "slurm") {
        pool.reset(); // the trials run on the cluster
        return sweep_on_slurm({o, arms, *store, layout, db_path, data_dir}, handover);
    }

    Planned plan = plan_runs(*store, arms, o);
    auto total = int64_t(plan.queue.size());
    Parallelism p = choose_parallelism(o, spec, plan.queue);
    fmt::print("sweep {} (#{}): {} trials, {} already done, {} to run; {} job(s) x {} thread(s); db {}\n", spec.name,
               plan.sweep_id, total + plan.skipped, plan.skipped, total, p.jobs, p.threads, db_path);
    if (plan.duplicates)
        fmt::print("note: {} trial(s) repeat an identical configuration and run once\n", plan.duplicates);
    warn_changed_builds(plan, o.rerun_changed, layout.cache_dir());
    std::fflush(stdout);

    auto start = std::chrono::steady_clock::now();
    SchedulerResult r = run_on_pool(arms, *store, plan, p, o, data_dir, layout, pool, handover && handover->keep);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int rc = report_outcome(spec, r, total, plan.skipped, plan.sweep_id, secs, o.common.db_flag(), p.max_failures);
    if (!r.stop_signal) print_claims_step(spec, o);
    std::fflush(stdout); // its closing lines before the next sweep's, in a log too
    keep_cache_limit(layout.cache_dir());
    return rc;
}

} // namespace iclr
