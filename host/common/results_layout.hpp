// The one owner of the results folder's layout: where logs, run folders and the cache live.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

namespace iclr {

// For a database results/iclr.db:
//   results/logs/iclr.db/run-N.log   each run's full log (per database: run ids restart in each)
//   results/runs/iclr.db/N/          each run's folder for artifacts (per database)
//   results/cache/                   the content-keyed artifact cache (shared: its keys are hashes)
//   results/queries/                 saved queries (`iclr report` shows those named after the sweep)
//   results/reports/iclr.db/         `iclr report`'s pages, one per sweep and variant (--profile, --set)
//                                    (per database: two databases of one sweep make two pages)
//   results/slurm/iclr.db/SWEEP-ID/  a sweep handed to Slurm: frozen plan, batch script, journals
//                                    (per database, like runs/: it names the database's run ids)
//   results/reruns/iclr.db/run-N/    `iclr rerun N`'s scratch: its log, run folder and own cache
// Keyed on the database's full file name (x.db and x.sqlite beside it do not share logs), after
// symlinks are resolved (a database reached through a link finds its own logs).
class ResultsLayout {
  public:
    explicit ResultsLayout(const std::string& db_path);
    std::filesystem::path logs_dir() const { return root_ / "logs" / name_; }
    std::filesystem::path log_file(int64_t run) const { return logs_dir() / ("run-" + std::to_string(run) + ".log"); }
    std::filesystem::path runs_dir() const { return root_ / "runs" / name_; }
    std::filesystem::path run_dir(int64_t run) const { return runs_dir() / std::to_string(run); }
    std::filesystem::path cache_dir() const { return root_ / "cache"; }
    std::filesystem::path queries_dir() const { return root_ / "queries"; }         // saved .sql files
    std::filesystem::path reports_dir() const { return root_ / "reports" / name_; } // `iclr report` pages
    std::filesystem::path slurm_dir() const { return root_ / "slurm" / name_; }     // run folders
    // `iclr rerun N`'s folder, reruns/NAME/run-N/, and its own layout rooted there: logs/run-N.log,
    // runs/N/, cache/.
    std::filesystem::path rerun_dir(int64_t run) const {
        return root_ / "reruns" / name_ / ("run-" + std::to_string(run));
    }
    ResultsLayout rerun(int64_t run) const { return ResultsLayout(rerun_dir(run), ""); }
    // Beside the folder, not in it: a rerun removes the folder it finds, the lock must outlive that.
    std::filesystem::path rerun_lock(int64_t run) const { return rerun_dir(run).string() + ".lock"; }

  private:
    ResultsLayout(std::filesystem::path root, std::string name) : root_(std::move(root)), name_(std::move(name)) {}
    std::filesystem::path root_; // the database's folder, absolute
    std::string name_;           // the database's file name
};

// The database the CLI uses when --db is not given: $ICLR_DB, else results/iclr.db.
std::string default_db_path();
// The data folder when --data is not given: $ICLR_DATA, else data.
std::string default_data_dir();
// p made absolute and normal; p itself when that fails.
std::string absolute_path(const std::string& p);

} // namespace iclr
