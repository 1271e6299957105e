// Submitting a sweep to Slurm: the same planning as a local run, then a run folder and sbatch.
#include "cli/slurm_launch.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli/progress.hpp"
#include "cli/run_plan.hpp"
#include "cli/slurm_common.hpp"
#include "common/build_info.hpp"
#include "common/duration.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "exec/stop_signal.hpp"
#include "slurm/batch_script.hpp"
#include "slurm/slurm_client.hpp"
#include "store/sqlite_util.hpp"

namespace iclr {
namespace {

// The plan's trials: each queued run's worker payload and label, and every plugin file it uses.
FrozenPlan freeze(const SlurmLaunch& l, const Planned& planned, const SlurmSettings& s) {
    const SweepSpec& spec = l.arms.base();
    FrozenPlan p;
    p.sweep_name = spec.name;
    p.sweep_id = planned.sweep_id;
    p.db_path = absolute_path(l.db_path);
    p.created_at = now_iso();
    p.iclr_build = iclr_build();
    p.trials_per_task = s.trials_per_task;
    p.jobs_per_task = std::max(1, std::min(s.trials_per_task, s.cpus_per_task));
    p.threads = l.options.threads > 0 ? l.options.threads : std::max(1, s.cpus_per_task / p.jobs_per_task);
    p.timeout_s = spec.timeout_s;
    p.memory_mb = spec.memory_mb;
    std::set<std::string> files;
    for (const auto& q : planned.queue) {
        TrialPoint point = l.arms.expansions[q.arm]->at(q.index);
        ResolvedTrial t = resolve_trial(l.arms.specs[q.arm], l.arms.plugins[q.arm], point);
        p.trials.push_back({q.run_id, t.key, l.arms.describe(q.arm, point),
                            payload(t, q.run_id, p.threads, spec.memory_mb, spec.on_nonfinite, l.data_dir, l.layout),
                            q.cost});
        for (const auto& part : t.parts)
            if (files.insert(part.plugin->file).second) p.plugins.push_back({part.plugin->file, part.plugin->sha256});
    }
    return p;
}

std::vector<Submission> submit(const RunFolder& folder, const FrozenPlan& plan, const SlurmSettings& s) {
    int64_t max_array = std::max<int64_t>(1, slurm::max_array_size()); // indices 0 .. MaxArraySize-1
    std::vector<Submission> subs;
    for (int64_t first = 0; first < plan.task_count(); first += max_array) {
        int64_t count = std::min(max_array, plan.task_count() - first);
        Submission sub{slurm::submit_array(folder.script_file().string(), count, first, s,
                                           (folder.logs_dir() / "%A_%a.out").string()),
                       first, count};
        folder.add_submission(sub);
        subs.push_back(sub);
    }
    return subs;
}

// max_failures on Slurm: once that many of the folder's trials failed, the array tasks not started
// yet are cancelled (the running ones finish); returns whether it did.
bool cancel_if_over_budget(const SlurmSubmitted& s, const slurm::SyncResult& r, Progress& progress) {
    int64_t failed = 0;
    for (const auto& [status, n] : r.status)
        failed += is_failure(status) ? n : 0;
    if (s.max_failures <= 0 || failed < s.max_failures) return false;
    for (const auto& sub : s.folder.submissions())
        slurm::cancel_pending(sub.job_id);
    progress.clear_line();
    fmt::print("{}{} trial(s) failed (max_failures = {}): the array tasks not started yet are cancelled, the running "
               "ones finish\n",
               s.sweep.empty() ? "" : "sweep " + s.sweep + ": ", failed, s.max_failures);
    return true;
}

// Whether Slurm still holds a task of one of the folder's array jobs ("<job>_<index>" in `active`).
bool holds_a_task(const std::set<std::string>& active, const RunFolder& folder) {
    for (const auto& sub : folder.submissions()) {
        std::string prefix = sub.job_id + "_";
        auto it = active.lower_bound(prefix);
        if (it != active.end() && it->starts_with(prefix)) return true;
    }
    return false;
}

// One submission while --wait follows it.
struct Followed {
    SlurmSubmitted* s;
    std::map<int64_t, const FrozenTrial*> trials = {};
    std::set<int64_t> running = {}, reported = {};
    bool cancelled = false; // max_failures reached: its pending array tasks are gone
    bool closed = false;    // Slurm holds none of its tasks: its line is printed
};

// What the sync found changed, on the progress line. An interrupted trial is only noted: its task
// may be requeued. With several sweeps followed, each label starts with its sweep's name.
void report_changes(Followed& f, const slurm::SyncResult& r, Progress& progress, bool name_sweep) {
    for (const auto& c : r.changes) {
        if (f.reported.count(c.run)) continue;
        if (f.running.insert(c.run).second) progress.started(c.run);
        if (c.status == RunStatus::Running) continue;
        std::string label = (name_sweep ? f.s->sweep + ": " : "") + f.trials[c.run]->label;
        if (c.status == RunStatus::Interrupted) { // not running now; started again if requeued
            f.running.erase(c.run);
            progress.stopped(c.run);
            progress.clear_line();
            fmt::print("run {} interrupted: {}  ({})\n", c.run, c.error, label);
            continue;
        }
        f.reported.insert(c.run);
        progress.finished(c.run, c.status, c.seconds, label, c.error);
    }
}

// The sweep's closing line once Slurm holds none of its tasks; returns 1 when a trial failed.
int close_followed(Followed& f, const slurm::SyncResult& r, Progress& progress, double secs,
                   std::vector<std::string>* incomplete) {
    progress.clear_line();
    for (const auto& p : r.problems)
        fmt::print(stderr, "iclr: warning: {}\n", p);
    int64_t finished = 0, failed = 0;
    for (const auto& [status, n] : r.status) {
        finished += is_final(status) ? n : 0;
        failed += is_failure(status) ? n : 0;
    }
    int64_t missing = int64_t(f.s->plan.trials.size()) - finished;
    fmt::print("sweep {} on Slurm: {} in {}{}\n", f.s->sweep, status_counts(r.status), format_duration(secs),
               missing > 0 ? fmt::format("; {} not done: run the same command again to submit them", missing) : "");
    if ((failed || missing > 0) && incomplete) incomplete->push_back(f.s->file);
    f.closed = true;
    return failed ? 1 : 0;
}

} // namespace

int follow_on_slurm(Store& store, std::vector<SlurmSubmitted>& subs, std::vector<std::string>* incomplete) {
    install_stop_handlers();
    std::vector<Followed> followed;
    int64_t total = 0;
    for (auto& s : subs) {
        Followed& f = followed.emplace_back(Followed{&s});
        for (const auto& t : s.plan.trials)
            f.trials[t.run_id] = &t;
        total += int64_t(s.plan.trials.size());
    }
    std::vector<std::unordered_map<int64_t, float>> costs; // each sweep's: they compare within it (GroupEta)
    for (const auto& sub : subs)
        costs.push_back(cost_by_run(sub.plan.trials));
    Progress progress(total, isatty(STDOUT_FILENO), std::move(costs));
    auto start = std::chrono::steady_clock::now();
    int rc = 0;
    for (;;) {
        std::vector<RunFolder> open;
        for (const auto& f : followed)
            if (!f.closed) open.push_back(f.s->folder);
        if (open.empty()) return rc;
        auto active = active_tasks(open); // one squeue for every sweep
        for (auto& f : followed) {
            if (f.closed) continue;
            slurm::SyncResult r = slurm::sync_folder(store, f.s->folder, active, &f.s->plan, &f.s->seen);
            report_changes(f, r, progress, subs.size() > 1);
            if (!f.cancelled) f.cancelled = cancel_if_over_budget(*f.s, r, progress);
            if (active && !holds_a_task(*active, f.s->folder)) {
                double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                rc = std::max(rc, close_followed(f, r, progress, secs, incomplete));
            }
        }
        if (std::all_of(followed.begin(), followed.end(), [](const Followed& f) { return f.closed; })) return rc;
        for (int k = 0; k < 20 && !stop_signal(); ++k) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            progress.tick();
        }
        if (stop_signal()) {
            progress.clear_line();
            std::vector<std::string> folders;
            for (const auto& f : followed)
                if (!f.closed) folders.push_back(f.s->folder.root().string());
            fmt::print("stopped following; the array job(s) go on: iclr status{}\n", shell_words(folders));
            return 128 + stop_signal();
        }
    }
}

std::optional<SlurmSubmitted> submit_to_slurm(const SlurmLaunch& l) {
    const SweepSpec& spec = l.arms.base();
    SlurmSettings s = merge_flags(spec.slurm, l.options.slurm);
    if (!slurm::available())
        throw UserError("--launcher slurm: sbatch is not on PATH (run this on a Slurm login node, or set PATH and "
                        "SLURM_CONF)");
    // Earlier submissions first: what they finished is synced (so it is not run again) and what
    // Slurm still holds of them is left to them.
    auto earlier = run_folders_of(l.layout.slurm_dir(), spec.name);
    auto active = active_tasks(earlier);
    if (!active) throw UserError("--launcher slurm: squeue did not answer; cannot tell which trials still run");
    for (const auto& f : earlier)
        sync_and_say(l.store, f, active, false);
    Planned planned = plan_runs(l.store, l.arms, l.options, busy_keys(earlier, *active));
    warn_changed_builds(planned, l.options.rerun_changed, l.layout.cache_dir());
    auto total = int64_t(planned.queue.size());
    fmt::print("sweep {} (#{}): {} trials, {} already done, {} queued or running in earlier array jobs, {} to "
               "submit; db {}\n",
               spec.name, planned.sweep_id, total + planned.skipped + planned.busy, planned.skipped, planned.busy,
               total, l.db_path);
    if (total == 0) return std::nullopt;

    RunFolder folder(l.layout.slurm_dir() / (spec.name + "-" + std::to_string(planned.sweep_id)));
    FrozenPlan plan = freeze(l, planned, s);
    folder.write_plan(plan);
    {
        std::ofstream(folder.script_file()) << slurm::batch_script(folder, spec.name, self_exe(), s);
        chmod(folder.script_file().c_str(), 0755);
    }
    std::vector<std::string> jobs;
    for (const auto& sub : submit(folder, plan, s))
        jobs.push_back(sub.job_id);
    fmt::print("submitted {} trial(s) as {} array task(s) of {} trial(s), {} cpu(s) each: job {}\n"
               "run folder {}\n",
               total, plan.task_count(), s.trials_per_task, s.cpus_per_task, fmt::join(jobs, ", "),
               folder.root().string());
    for (auto& t : plan.trials) // following needs each trial's run, key and label, not what its worker reads
        std::string().swap(t.payload);
    return SlurmSubmitted{l.options.sweep, spec.name, max_failures_of(l.options, spec), std::move(folder),
                          std::move(plan)};
}

int run_on_slurm(const SlurmLaunch& l) {
    std::optional<SlurmSubmitted> s = submit_to_slurm(l);
    if (!s) return 0;
    if (!l.options.wait) {
        fmt::print("follow: iclr status {0}\ningest: iclr sync {0}   (running this command again also syncs, "
                   "then submits only what is missing)\n",
                   shell_word(s->folder.root().string()));
        return 0;
    }
    std::vector<SlurmSubmitted> subs;
    subs.push_back(std::move(*s));
    return follow_on_slurm(l.store, subs);
}

} // namespace iclr
