// The CLI's commands; each returns the process exit code. UserError/HostError escape to main.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

struct CommonOptions {
    std::string db;   // results database
    std::string data; // data sets folder
    // --db, else $ICLR_DB, else results/iclr.db; --data, else $ICLR_DATA, else data.
    std::string db_path() const { return db.empty() ? default_db_path() : db; }
    std::string data_dir() const { return data.empty() ? default_data_dir() : data; }
    // " --db PATH" when --db was given, for the commands a command prints to be copied as they are.
    std::string db_flag() const { return db.empty() ? "" : " --db " + shell_word(db); }
};

// `iclr run --launcher slurm` flags; each one set overrides its key in [sweep.slurm].
struct SlurmFlags {
    std::optional<std::string> partition, time, gres;
    std::optional<int> max_parallel, trials_per_task, cpus_per_task;
    std::vector<std::string> sbatch_args; // added to the sweep's
};

int cmd_plugins(const std::string& which);
// construct: build each distinct plugin configuration in a worker (cli/constructor_check.hpp).
// Also says how many of the trials the database (`c`) holds done, as `iclr run` would find them.
int cmd_plan(const std::string& sweep, const SweepVariant& variant, bool construct, const CommonOptions& c);
int cmd_plan_several(const std::vector<std::string>& files, const SweepVariant& variant, bool construct,
                     const CommonOptions& c);
struct RunOptions {
    std::vector<std::string> sweeps; // as given; several: every one read first, then each run in turn
    std::string sweep;               // the one being run
    SweepVariant variant;            // --profile, --set
    std::string jobs;                // "" = the sweep's own setting; a number or "auto"
    int threads = 0;                 // torch threads per trial; 0 = cores / jobs
    bool rerun_changed = false;      // rerun finished trials whose plugin builds differ from today's
    bool no_construct = false;       // skip cli/constructor_check (--no-construct)
    std::string gpus;                // "" = the sweep's; "0,1", "all" or "none"
    int trials_per_gpu = 0;          // 0 = the sweep's
    int64_t max_failures = -1;       // -1 = the sweep's; 0 = no limit
    std::string launcher = "local";  // or "slurm": hand the trials to Slurm as job arrays
    bool wait = false;               // slurm: follow the array jobs to the end, syncing as they go
    SlurmFlags slurm;
    CommonOptions common;
};
int cmd_run(const RunOptions& o);
// run_several.cpp: several sweep files, each read before any runs, then run in turn.
int run_several(const RunOptions& o);
// `iclr sync [FOLDER...]`: Slurm journals into the database (every run folder when none named).
int cmd_sync(const std::vector<std::string>& folders, const CommonOptions& c);
// `iclr status [FOLDER...]`: per array task, Slurm's state and the trials its journals hold.
int cmd_status(const std::vector<std::string>& folders, const CommonOptions& c);
// `iclr status` alone: the database's sweep files and their runs by status; false when there is no
// database.
bool print_database_status(const CommonOptions& c);
// `iclr status SWEEP.toml`: the sweep's trials as written in the database, by arm and status.
int cmd_sweep_status(const std::string& sweep, const SweepVariant& variant, const CommonOptions& c);
// `iclr status A.toml B.toml ...`: each in turn; one that cannot be read says why and the others go on.
int cmd_sweep_status_several(const std::vector<std::string>& sweeps, const SweepVariant& variant,
                             const CommonOptions& c);
// `iclr __slurm-task FOLDER FIRST_TASK`: what job.sh runs inside an array task.
int cmd_slurm_task(const std::string& folder, const std::string& first_task);
// With sweep files, their trials as written are the TEMP table sweep_runs(id, arm, sweep) the SQL
// may name; each of `attach` ("NAME=FILE") is another database the SQL reads as NAME.
int cmd_query(const std::string& sql, const std::string& format, const std::vector<std::string>& sweeps,
              const SweepVariant& variant, const std::vector<std::string>& attach, const CommonOptions& c);
// A query's rows on stdout in `format`, streamed (a reader that stops early ends it quietly).
// Returns the exit status.
class Store;
int print_query(Store& store, const std::string& sql, const std::string& format);
// `iclr table SWEEP`: its trials as written, a row per run: arm, status, seed, the parameters and
// attributes that differ between runs, the final metrics (per task with --per-task).
struct TableOptions {
    std::vector<std::string> sweeps; // as given; several: each one's table in turn
    std::string format = "table";
    SweepVariant variant;
    bool all_params = false; // every parameter and attribute, not only those that differ
    bool per_task = false;   // a column per task of each per-task metric (acc[0], acc[1], ...)
    CommonOptions common;
};
int cmd_table(const TableOptions& o);
int cmd_show(const std::string& run, const std::string& format, const CommonOptions& c);
// `iclr rerun RUN` (or `--sweep FILE`, a sample of its runs): the recorded trial run again by
// today's plugins (the same versions), its metrics compared with the recorded ones; nothing is
// written to the database.
struct RerunOptions {
    std::string run;                 // id or key prefix; or, with `sweeps`, a sample of each sweep's runs
    std::vector<std::string> sweeps; // --sweep: the sweep files whose runs (as written, with `variant`) are sampled
    SweepVariant variant;            // --profile, --set
    int64_t sample = 5;              // how many of the sweep's runs; 0 = every one
    uint64_t sample_seed = 0;        // the generator that draws them
    int threads = 0;                 // 0 = the run's recorded thread count (libtorch's sums depend on it)
    int jobs = 0;                    // with sweeps: runs side by side; 0 = the cores / the runs' usual thread count
    bool warm_cache = false;         // read the database's artifact cache instead of computing every stage again
    double tolerance = 0;            // the largest |difference| still counted as reproduced
    CommonOptions common;
};
int cmd_rerun(const RerunOptions& o);
// b "" with `against`: the run of a's trial (its key) in that database.
int cmd_diff(const std::string& a, const std::string& b, const std::string& against, const std::string& format,
             const CommonOptions& c);
struct VerifyOptions {
    std::vector<std::string> sweeps;     // as given; several: each one's verdicts, then a row per sweep
    std::string sweep, format = "table"; // sweep: the one being verified
    SweepVariant variant;
    bool strict = false; // exit 1 unless every claim held
    std::string claim;   // only the claims whose name contains this ("" = all)
    bool rows = false;   // after the verdicts, each claim's rows
    std::string against; // another database of the sweep: both verdicts side by side, exit 1 if one differs
    CommonOptions common;
};
int cmd_verify(const VerifyOptions& o);
struct ReportOptions {
    std::vector<std::string> sweeps;    // as given; several: each one's page, then an index page
    std::string sweep, format = "html"; // sweep: the one being reported
    SweepVariant variant;
    std::string out;  // the page (html) or the summary (md; stdout when empty)
    std::string html; // md: the page to link to (default: where html would be written)
    CommonOptions common;
};
int cmd_report(const ReportOptions& o);
// `iclr cache [list|prune]`: the artifact cache beside the database (results/cache/).
struct CacheOptions {
    std::string action; // "" (a summary), "list", "prune" or "limit"
    std::string value;  // limit: a size or "none"; "" = say the limit
    std::string format = "table";
    std::string older_than, max_size; // prune: "30d", "20G"
    bool all = false, dry_run = false;
    CommonOptions common;
};
int cmd_cache(const CacheOptions& o);
// During and at the end of `iclr run`: prunes the cache under `dir` to its limit, if one is set
// (least recently used first; entries in use kept), saying what went. A malformed limit file is a
// warning.
void keep_cache_limit(const std::filesystem::path& dir);

} // namespace iclr
