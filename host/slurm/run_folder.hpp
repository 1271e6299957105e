// A sweep handed to Slurm: its run folder on the shared file system, holding the frozen plan
// (every trial's key and worker payload, every plugin file's hash), the batch script, the array
// jobs submitted and the array tasks' journals. The plan is plan.toml (settings, plugins) beside
// trials.txt (a line a trial) and trials.idx (where each line starts), so that an array task reads
// its own trials, not a plan of a hundred thousand (format 1, one TOML file, is still read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace iclr {

struct FrozenTrial {
    int64_t run_id = 0;
    std::string key, label;
    std::string payload; // the worker's TOML, exactly as a local run would send it
    float cost = 0;      // run_plan.hpp's TrialCosts, for the ETA; 0 in plans written before it was kept
};

struct FrozenPlugin {
    std::string file, sha256; // a task refuses to run when the file's hash changed since submission
};

struct FrozenPlan {
    std::string sweep_name, db_path, created_at;
    std::string iclr_build; // the build that submitted it (its runs are recorded under it); "" in older plans
    int64_t sweep_id = 0;
    int trials_per_task = 1, jobs_per_task = 1, threads = 1;
    double timeout_s = 0;
    int64_t memory_mb = 0;
    std::vector<FrozenPlugin> plugins;
    std::vector<FrozenTrial> trials;

    int64_t task_count() const { return (int64_t(trials.size()) + trials_per_task - 1) / trials_per_task; }
    // The trials array task `task` (counted across every submission of this plan) runs: [first, end).
    std::pair<size_t, size_t> slice(int64_t task) const;
};

// What one array task reads: the plan's settings (its `trials` only this task's, payloads included)
// and where they lie in the plan.
struct FrozenTask {
    FrozenPlan plan;
    size_t first = 0, end = 0; // the task's trials' places in the whole plan: [first, end)
};

// One sbatch submission: array job `job_id`, its array index i runs the plan's task first_task + i.
struct Submission {
    std::string job_id;
    int64_t first_task = 0, count = 0;
};

class RunFolder {
  public:
    explicit RunFolder(std::filesystem::path root) : root_(std::move(root)) {}
    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path plan_file() const { return root_ / "plan.toml"; }
    std::filesystem::path trials_file() const { return root_ / "trials.txt"; }
    std::filesystem::path index_file() const { return root_ / "trials.idx"; }
    std::filesystem::path script_file() const { return root_ / "job.sh"; }
    std::filesystem::path journals_dir() const { return root_ / "journals"; }
    std::filesystem::path logs_dir() const { return root_ / "logs"; }
    // "<array job>_<task>.<restart>.jnl": one file per attempt, so no two processes ever append
    // to the same journal.
    std::filesystem::path journal_file(const std::string& job_task, int64_t restart) const;

    // Writes the trials, then plan.toml atomically (temp file + rename: a folder with a plan.toml
    // has its trials), and makes the journals and logs folders.
    void write_plan(const FrozenPlan& plan) const;
    // Every trial without its payload (what sync, status and --wait need). Throws UserError naming
    // the file when it is missing or not a plan this iclr wrote.
    FrozenPlan read_plan() const;
    // The settings and array task `task`'s trials with their payloads, read from their place in
    // trials.txt: what an array task needs, whatever the size of the plan.
    FrozenTask read_task(int64_t task) const;
    void add_submission(const Submission& s) const; // appends a line to jobs.txt
    std::vector<Submission> submissions() const;
    // The journal files, oldest attempt first (by array job, task, restart); with `job_task`
    // ("12_3") only that array task's.
    std::vector<std::filesystem::path> journals(const std::string& job_task = "") const;

  private:
    std::filesystem::path root_;
};

// The run folders under `dir` (results/slurm/DB) of one sweep, oldest first.
std::vector<RunFolder> run_folders_of(const std::filesystem::path& dir, const std::string& sweep_name);

} // namespace iclr
