// `iclr __slurm-task FOLDER FIRST_TASK`: one array task runs its slice of the frozen plan on the
// same worker pool as a local run, into a journal of its own.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/journal_sink.hpp"
#include "cli/run_plan.hpp"
#include "common/build_info.hpp"
#include "common/file_hash.hpp"
#include "common/process.hpp"
#include "exec/devices.hpp"
#include "exec/scheduler.hpp"
#include "exec/stop_signal.hpp"
#include "journal/events.hpp"
#include "slurm/attempts.hpp"
#include "slurm/run_folder.hpp"
#include "slurm/slurm_client.hpp"
#include "store/sqlite_util.hpp"

namespace iclr {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// A plugin rebuilt since submission would produce results under keys that name the old build.
void check_plugins(const FrozenPlan& plan) {
    for (const auto& p : plan.plugins) {
        std::string now;
        try {
            now = sha256_file(p.file);
        } catch (const std::exception&) {
            throw UserError("plugin " + p.file + " is gone since the sweep was submitted; submit it again");
        }
        if (now != p.sha256)
            throw UserError("plugin " + p.file +
                            " was rebuilt since the sweep was submitted (its SHA-256 differs); submit the sweep again");
    }
}

// The runs are recorded under the submitting invocation's sweep row, which names its build of iclr:
// a task run by another build (iclr rebuilt since) would be misattributed.
void check_build(const FrozenPlan& plan) {
    if (!plan.iclr_build.empty() && plan.iclr_build != iclr_build())
        throw UserError("iclr was rebuilt since the sweep was submitted (by " + plan.iclr_build + "; this is " +
                        iclr_build() + "): its runs would be recorded under the other build; submit the sweep again");
}

// Run ids a finished attempt of this array task holds (an earlier restart's journal): never run
// twice to completion. Only its own journals: its trials are no other task's in this folder, and a
// task reading every journal of a 100,000-task array would read 100,000 files.
std::set<int64_t> finished_runs(const RunFolder& folder, const std::string& job_task) {
    std::set<int64_t> done;
    for (const auto& [run, attempts] : slurm::read_journals(folder, job_task).runs)
        if (is_final(slurm::outcome(slurm::winner(attempts), std::nullopt).status)) done.insert(run);
    return done;
}

// This task's trials that no journal holds finished, and the journal key of each of its runs.
struct TaskSlice {
    std::deque<QueuedTrial> queue;
    std::map<int64_t, std::string> keys;
    int64_t already = 0; // the slice's trials a journal holds finished
};
TaskSlice unfinished(const FrozenPlan& plan, const RunFolder& folder, const std::string& job_task) {
    std::set<int64_t> finished = finished_runs(folder, job_task);
    TaskSlice s;
    for (size_t k = 0; k < plan.trials.size(); ++k) {
        s.keys[plan.trials[k].run_id] = plan.trials[k].key;
        if (!finished.count(plan.trials[k].run_id)) // index: k, the trial's place in the task's trials
            s.queue.push_back({plan.trials[k].run_id, k, 0, plan.trials[k].cost});
    }
    s.already = int64_t(plan.trials.size()) - int64_t(s.queue.size());
    return s;
}

// The frozen trials on a local pool; each trial's payload was written when the sweep was submitted.
SchedulerResult run_slice(const FrozenPlan& plan, TaskSlice& slice, RunSink& sink) {
    ResultsLayout layout(plan.db_path);
    // GPUs: the ones Slurm gave this task (--gres sets CUDA_VISIBLE_DEVICES), one worker on each.
    std::vector<std::string> gpus = gpus_for("");
    int jobs = devices::max_jobs(plan.jobs_per_task, gpus.size(), 1);
    SchedulerOptions so{jobs,
                        plan.threads,
                        plan.timeout_s,
                        plan.memory_mb,
                        layout,
                        [&](const QueuedTrial& q) {
                            const FrozenTrial& t = plan.trials[q.index];
                            return TrialText{t.payload, t.label};
                        },
                        "",
                        gpus,
                        true}; // stop_when_a_worker_is_signalled: scancel and time limits signal workers too
    return Scheduler(so, sink).run(std::move(slice.queue));
}

} // namespace

int cmd_slurm_task(const std::string& folder_path, const std::string& first_task) {
    std::string job = env("SLURM_ARRAY_JOB_ID"), index = env("SLURM_ARRAY_TASK_ID");
    if (job.empty() || index.empty())
        throw UserError("__slurm-task runs inside a Slurm array task (SLURM_ARRAY_TASK_ID is not set)");
    install_stop_handlers(); // before anything slow: a time-limit warning must not kill us unrecorded
    RunFolder folder(folder_path);
    int64_t task = std::stoll(first_task) + std::stoll(index);
    FrozenTask mine = folder.read_task(task);
    const FrozenPlan& plan = mine.plan;
    auto [first, end] = std::pair(mine.first, mine.end);
    check_build(plan);
    check_plugins(plan);
    std::string job_task = job + "_" + index;
    TaskSlice slice = unfinished(plan, folder, job_task);
    int64_t restart = std::atoll(env("SLURM_RESTART_COUNT").c_str());
    fmt::print("iclr: array task {} (restart {}) on {}: plan task {}, trials {}..{}, {} finished already, {} to "
               "run\n",
               job_task, restart, host_name(), task, first, end, slice.already, slice.queue.size());
    std::fflush(stdout);

    journal::Writer writer(folder.journal_file(job_task, restart).string());
    writer.append(journal::encode(journal::TaskOpened{job_task, restart, getpid(), host_name(), now_iso()}));
    writer.sync();
    Progress progress(int64_t(slice.queue.size()), false, cost_by_run(slice.queue));
    JournalSink sink(writer, slice.keys, progress, ResultsLayout(plan.db_path).cache_dir());
    SchedulerResult r = run_slice(plan, slice, sink);
    writer.sync();
    int64_t left = int64_t(end - first) - slice.already - r.done - r.diverged;
    fmt::print("iclr: array task {}: {} done, {} failed, {} interrupted\n", job_task, r.done, r.failed, r.interrupted);
    if (r.worker_signalled)
        fmt::print("iclr: array task {}: a worker was stopped by a signal this task did not send (the job is ending: "
                   "cancelled or out of time); no further trial started\n",
                   job_task);
    if (r.stop_signal == SIGUSR1 && left > 0) {
        // Slurm's warning before the time limit: the interrupted trials run again in the requeued task.
        slurm::requeue(job_task);
        fmt::print("iclr: time limit near: requeued {} for its {} unfinished trial(s)\n", job_task, left);
    }
    if (r.stop_signal) return 128 + r.stop_signal;
    return r.failed ? 1 : 0;
}

} // namespace iclr
