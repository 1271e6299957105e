// Planning a sweep run, shared by the local pool and Slurm: record the sweep and a pending run per
// trial to run, and build the payload a worker gets for a trial.
#pragma once

#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/constructor_check.hpp"
#include "cli/slurm_launch.hpp"
#include "common/results_layout.hpp"
#include "exec/scheduler.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/trial.hpp"

namespace iclr {

struct Planned {
    int64_t sweep_id = 0;
    std::deque<QueuedTrial> queue;
    int64_t skipped = 0, duplicates = 0, busy = 0;
    // Of the busy ones, the runs a sweep before this one queued (`iclr run A B`'s one queue): this
    // sweep's closing line waits for them and says how they ended.
    std::vector<int64_t> earlier_runs;
    // finished trials whose plugin library differs from today's build, by "name version"; and
    // whether one such library was another file then (another checkout's build)
    std::map<std::string, int64_t> changed_builds;
    bool changed_elsewhere = false;
    // trials already done that another build of iclr ran, by that build ("" = not recorded)
    std::map<std::string, int64_t> other_iclr_builds;
    // trials already done as runs of another sweep under another arm name, by that sweep's name
    std::map<std::string, int64_t> other_sweeps_arms;
};

// What the plan knows of a trial's size without any plugin's help: its integer parameters above
// zero by "label.key", seeds excepted (width, depth, epochs, examples per class, pretraining epochs).
using TrialSizes = std::map<std::string, int64_t>;
TrialSizes trial_sizes(const ResolvedTrial& t);

// The sizes of a plan's trials, in the order added, and the costs they give. Kept compactly (each
// size's name once, a trial's sizes as id and log pairs): a plan may hold a million trials.
class TrialCosts {
  public:
    void add(const TrialSizes& sizes);
    // Each trial's expected cost relative to the others', sum of log(1 + n) over its sizes, so that
    // time is taken to grow with their product; floats (rates, coefficients), strings and lists are
    // neutral, and sizes equal in every trial add the same to each. Two uses, two sets of sizes:
    // - the queue's order (`comparable` false): every size, so that a trial with more to do than
    //   another (a pretraining, a replay buffer) runs first and builds its shared stage early (ordered
    //   by the comparable sizes, forgetting_vs_scale at one seed took 2 min 37 s, not 1 min 28 s: its
    //   scratch trials tied with the pretrained ones, and two workers waited on one backbone);
    // - the ETA (`comparable` true): only the sizes that every trial has above 0, since a ratio of
    //   times needs sizes that compare. Sizes of different plugins do not (each arm of lump_table runs
    //   another method plugin, whose own counts put e^5.5 = 257x between the costs of trials that
    //   take alike), and a count of 0 is a feature off, not a free trial (task_induced's 0 distractors read
    //   as 1/25 of the time of 24, against the same time measured: "ETA 17.2s" with 8 min left).
    std::vector<float> costs(bool comparable) const;

  private:
    std::unordered_map<std::string, uint32_t> ids_;  // a size's name -> its id
    std::vector<size_t> trials_with_;                // by id: how many trials have the size
    std::vector<std::pair<uint32_t, double>> sizes_; // every trial's sizes in turn: id, log(1 + n)
    std::vector<size_t> end_;                        // by trial: where its sizes end in sizes_
};

// The shared stages a trial's plugins may build once and cache for the others (loaded data, a
// pretrained backbone, a data set's derived tables): its [dataset] and [pretrain] sections as text.
std::string stage_group(const ResolvedTrial& t);

// The queue's order as positions into `cost` / `group` (the grid's order): cost descending; among
// equal costs the first trial of every group, then the second of every group, and so on. Two
// workers then start on different shared stages, instead of one computing a stage while the other
// waits on its cache lock to read it.
std::vector<size_t> run_order(const std::vector<float>& cost, const std::vector<std::string>& group);

// The most trials one `iclr run` (and `iclr status SWEEP`) takes: a sweep beyond it is split or sampled.
constexpr uint64_t kMaxTrialsPerRun = 1'000'000;
// A UserError naming `file` when its sweep plans more trials than that.
void check_run_size(const SweepArms& arms, const std::string& file);

// What `iclr run A B` hands each sweep in turn (run_several.cpp): the workers the sweep before it
// (or the constructor checks of them all) kept, ready, with libtorch loaded.
struct Handover {
    std::unique_ptr<Scheduler> pool;
    bool checked = false; // its constructors were checked before any sweep ran
    bool keep = false;    // another sweep follows: keep the workers for it
    bool locked = false;  // the caller holds the database's RunLock for every sweep
    // --launcher slurm --wait: each sweep's submission, for the caller to follow them together
    // (a sweep's array jobs need not wait for the one before to end); null: the sweep follows its own.
    std::vector<SlurmSubmitted>* follow_later = nullptr;
};
// `iclr run A B` on the local pool (run_group.cpp): consecutive sweeps whose pools would be alike
// (jobs, threads, GPUs, a worker's memory limit; a trial's timeout is its own) run as one queue, so that one sweep's
// last trials run beside the next one's first instead of beside idle cores. "" = the sweep runs alone (a failure
// budget, which counts one sweep's failures; Slurm).
std::string pool_key(const RunOptions& o, const SweepSpec& spec);
struct GroupOutcome {
    int rc = 0;                           // the worst exit status, 128 + the signal when stopped
    std::vector<std::string> incomplete;  // files whose sweep has trials not done
    std::vector<std::string> not_started; // files of which no trial ran (stopped before them)
    bool stopped_before = false;          // stopped before these sweeps recorded anything
};
// Those sweeps' files in one queue, on the workers `handover` holds (checked before, or
// --no-construct), each planned and recorded first, each closing with its own line as its last
// trial ends. `arms`: the files as run_several read them (the registry they point into outlives
// the call), not read again.
GroupOutcome run_group(const RunOptions& o, const std::vector<std::string>& files, std::vector<SweepArms> arms,
                       Handover& handover);
// `iclr run FILE`.
int run_sweep(const RunOptions& o);
// The same for a sweep already read, given what the sweep before left (null: the sweep runs alone;
// `iclr run A B` reads every file first and checks its constructors, so what runs is what was checked).
int run_read_sweep(const RunOptions& o, const SweepArms& arms, Handover* handover);
// The database `iclr run` writes to, waiting (and saying so) while another process holds its write
// lock; `recover`: runs an earlier host left 'running' are marked interrupted, as a run's first step.
std::unique_ptr<Store> open_store_for_run(const std::string& db_path, bool recover = true);
// The sweep a worker's data sets are held for (SchedulerOptions::data_scope): its file and flags.
std::string data_scope(const RunOptions& o);
// How `iclr run` checks the sweep o.sweep (`spec`) before it runs (cli/constructor_check.hpp): on its
// GPUs, its data sets loaded on the local launcher (not on Slurm's login node), under its data scope.
CheckSettings run_check_settings(const RunOptions& o, const SweepSpec& spec, const std::string& data_dir,
                                 const ResultsLayout& layout);

// How many trials run at once and with how many threads each, on which GPUs, with which failure budget.
struct Parallelism {
    int jobs = 1, threads = 1;
    std::vector<std::string> gpus;
    int64_t max_failures = 0; // --max-failures, else the sweep's
};
// --jobs, else the sweep's `jobs`, as a number: 0 for "auto" (resolved by choose_parallelism).
int requested_jobs(const RunOptions& o, const SweepSpec& spec);
// --jobs, --threads and --gpus (else the sweep's), with "auto" resolved against the cores and the
// trials left to run (`queue`, whose last trials jobs = "auto" may give the cores idle beside them);
// printed, since the choice moves both speed and a trial's last bits.
Parallelism choose_parallelism(const RunOptions& o, const SweepSpec& spec, std::deque<QueuedTrial>& queue);
// A sweep's closing lines: its counts and where to look for failures (db_arg: CommonOptions::db_flag(),
// " --db PATH" or ""; max_failures: the limit the run had; `earlier`: a line on its trials another
// sweep of the command ran, printed under the counts). Returns `iclr run`'s exit status.
int report_outcome(const SweepSpec& spec, const SchedulerResult& r, int64_t total, int64_t skipped, int64_t sweep_id,
                   double secs, const std::string& db_arg, int64_t max_failures, const std::string& earlier = "");

// The GPUs the sweep's workers are pinned to: --gpus, else the sweep's.
std::vector<std::string> sweep_gpus(const RunOptions& o, const SweepSpec& spec);
// The failure budget a run has: --max-failures, else the sweep's [sweep] max_failures (0: none).
inline int64_t max_failures_of(const RunOptions& o, const SweepSpec& spec) {
    return o.max_failures >= 0 ? o.max_failures : spec.max_failures;
}

// Records the sweep and a pending run for every trial not already done, in one transaction.
// Trials whose key is in `busy` (queued or running on Slurm) are left as they are. The queue is
// in run_order: longest first by TrialCosts, so that the largest trials do not end the sweep on
// one core while the others idle, and equal ones spread over the shared stages.
// So are unfinished trials that sweeps `queued_by` (planned earlier by the same `iclr run A B`, their
// trials not run yet) hold: each trial runs once, for the first sweep that has it.
Planned plan_runs(Store& store, const SweepArms& arms, const RunOptions& o, const std::set<std::string>& busy = {},
                  const std::set<int64_t>& queued_by = {});
// Never silent: trials a different build of a plugin produced are named before anything runs, and
// a rerun of them says that the cached stages in `cache_dir` are not rebuilt with them; so are the
// trials already done by another build of iclr when this run adds to them.
void warn_changed_builds(const Planned& plan, bool rerun, const std::filesystem::path& cache_dir);
// The GPUs this process's workers are pinned to (exec/devices.hpp): `requested` ("" = the default)
// among those CUDA_VISIBLE_DEVICES or the driver shows.
std::vector<std::string> gpus_for(const std::string& requested);

// What the worker gets for one trial (protocol.hpp: "TRIAL <bytes>" then this TOML). Its run folder
// is the layout's for run_id unless `run_dir` names another (a constructor check's scratch folder).
std::string payload(const ResolvedTrial& t, int64_t run_id, int threads, int64_t memory_mb,
                    const std::string& on_nonfinite, const std::string& data_dir, const ResultsLayout& layout,
                    const std::optional<std::filesystem::path>& run_dir = std::nullopt);

} // namespace iclr
