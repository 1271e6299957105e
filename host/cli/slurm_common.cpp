// Shared by the Slurm commands: active tasks from squeue, busy trial keys, sync summaries.
#include "cli/slurm_common.hpp"

#include <fmt/core.h>

#include "slurm/slurm_client.hpp"

namespace iclr {

std::optional<std::set<std::string>> active_tasks(const std::vector<RunFolder>& folders) {
    std::vector<std::string> jobs;
    for (const auto& f : folders)
        for (const auto& s : f.submissions())
            jobs.push_back(s.job_id);
    if (jobs.empty()) return std::set<std::string>{};
    auto queued = slurm::queued_tasks(jobs);
    if (!queued) return std::nullopt;
    std::set<std::string> out;
    for (const auto& [task, state] : *queued)
        out.insert(task);
    return out;
}

std::set<std::string> busy_keys(const std::vector<RunFolder>& folders, const std::set<std::string>& active) {
    std::set<std::string> keys;
    for (const auto& f : folders) {
        std::optional<FrozenPlan> plan;
        for (const auto& s : f.submissions())
            for (int64_t i = 0; i < s.count; ++i) {
                if (!active.count(s.job_id + "_" + std::to_string(i))) continue;
                if (!plan) plan = f.read_plan();
                auto [first, end] = plan->slice(s.first_task + i);
                for (size_t k = first; k < end; ++k)
                    keys.insert(plan->trials[k].key);
            }
    }
    return keys;
}

std::string status_counts(const std::map<RunStatus, int64_t>& by_status) {
    std::string s;
    for (const auto& [status, n] : by_status)
        s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(status);
    return s.empty() ? "no trial started yet" : s;
}

slurm::SyncResult sync_and_say(Store& store, const RunFolder& folder,
                               const std::optional<std::set<std::string>>& active, bool verbose) {
    slurm::SyncResult r = slurm::sync_folder(store, folder, active);
    if (verbose || r.ingested)
        fmt::print("synced {}: {} run(s) written, {} unchanged{}; {}\n", folder.root().filename().string(), r.ingested,
                   r.unchanged, r.kept ? fmt::format(", {} already finished by another attempt", r.kept) : "",
                   status_counts(r.status));
    for (const auto& p : r.problems)
        fmt::print(stderr, "iclr: warning: {}\n", p);
    return r;
}

SlurmSettings merge_flags(SlurmSettings s, const SlurmFlags& f) {
    if (f.partition) s.partition = *f.partition;
    if (f.time) s.time = *f.time;
    if (f.gres) s.gres = *f.gres;
    if (f.max_parallel) s.max_parallel = *f.max_parallel;
    if (f.trials_per_task) s.trials_per_task = *f.trials_per_task;
    if (f.cpus_per_task) s.cpus_per_task = *f.cpus_per_task;
    s.sbatch_args.insert(s.sbatch_args.end(), f.sbatch_args.begin(), f.sbatch_args.end());
    return s;
}

} // namespace iclr
