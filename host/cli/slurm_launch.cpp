// Submitting a sweep to Slurm: the same planning as a local run, then a run folder and sbatch.
#include "cli/slurm_launch.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/core.h>

#include "cli/run_plan.hpp"
#include "cli/slurm_common.hpp"
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
                            payload(t, q.run_id, p.threads, spec.memory_mb, spec.on_nonfinite, l.data_dir, l.layout)});
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
        Submission sub{slurm::submit_array(folder.script_file().string(), count, first, s), first, count};
        folder.add_submission(sub);
        subs.push_back(sub);
    }
    return subs;
}

// --wait: sync every few seconds and show the counts until Slurm holds no task of the folder.
int follow(const SlurmLaunch& l, const RunFolder& folder, int64_t total) {
    install_stop_handlers();
    bool tty = isatty(STDOUT_FILENO);
    auto start = std::chrono::steady_clock::now();
    std::string last;
    for (;;) {
        auto active = active_tasks({folder});
        slurm::SyncResult r = slurm::sync_folder(l.store, folder, active);
        bool over = active && active->empty();
        auto n = [&r](RunStatus st) {
            auto it = r.status.find(st);
            return it == r.status.end() ? int64_t(0) : it->second;
        };
        std::string line = fmt::format(
            "slurm: {} of {} trials: {} ({} array task(s) queued or running) {}",
            n(RunStatus::Done) + n(RunStatus::Diverged), total, status_counts(r.status), active ? active->size() : 0,
            format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
        if (tty)
            fmt::print("\r\033[K{}", line);
        else if (line.substr(0, line.rfind(')')) != last.substr(0, last.rfind(')')))
            fmt::print("{}\n", line);
        last = line;
        std::fflush(stdout);
        if (over) {
            if (tty) fmt::print("\n");
            for (const auto& p : r.problems)
                fmt::print(stderr, "iclr: warning: {}\n", p);
            int64_t failed = n(RunStatus::Failed) + n(RunStatus::Timeout);
            int64_t missing = total - n(RunStatus::Done) - n(RunStatus::Diverged);
            fmt::print("sweep {}: {} on Slurm{}\n", l.arms.base().name, status_counts(r.status),
                       missing > 0 ? "; run the same command again to submit the trials not done" : "");
            return failed ? 1 : 0;
        }
        for (int k = 0; k < 20 && !stop_signal(); ++k)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (stop_signal()) {
            fmt::print("{}stopped following; the array job(s) go on: iclr status {}\n", tty ? "\n" : "",
                       folder.root().string());
            return 128 + stop_signal();
        }
    }
}

} // namespace

int run_on_slurm(const SlurmLaunch& l) {
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
    warn_changed_builds(planned, l.options.rerun_changed);
    auto total = int64_t(planned.queue.size());
    fmt::print("sweep {} (#{}): {} trials, {} already done, {} queued or running in earlier array jobs, {} to "
               "submit; db {}\n",
               spec.name, planned.sweep_id, total + planned.skipped + planned.busy, planned.skipped, planned.busy,
               total, l.db_path);
    if (total == 0) return 0;

    RunFolder folder(l.layout.slurm_dir() / (spec.name + "-" + std::to_string(planned.sweep_id)));
    FrozenPlan plan = freeze(l, planned, s);
    folder.write_plan(plan);
    {
        std::ofstream(folder.script_file()) << slurm::batch_script(folder, spec.name, self_exe(), s);
        chmod(folder.script_file().c_str(), 0755);
    }
    auto subs = submit(folder, plan, s);
    std::string jobs;
    for (const auto& sub : subs)
        jobs += (jobs.empty() ? "" : ", ") + sub.job_id;
    fmt::print("submitted {} trial(s) as {} array task(s) of {} trial(s), {} cpu(s) each: job {}\n"
               "run folder {}\n",
               total, plan.task_count(), s.trials_per_task, s.cpus_per_task, jobs, folder.root().string());
    if (!l.options.wait) {
        fmt::print("follow: iclr status {0}\ningest: iclr sync {0}   (running this command again also syncs, "
                   "then submits only what is missing)\n",
                   folder.root().string());
        return 0;
    }
    return follow(l, folder, total);
}

} // namespace iclr
