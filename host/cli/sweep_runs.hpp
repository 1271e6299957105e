// Which runs of a database are the trials of a sweep file as written: the TEMP table sweep_runs.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// Fills the TEMP table sweep_runs(id, arm, sweep) that the claims', plots' and saved queries may
// name: the runs that are trials of the sweep file as written (this profile, these plugin
// versions), each with the arm this sweep gives it (runs.arm is the arm of the sweep that recorded
// the run, which for a trial two sweeps share may be the other's) and its [sweep] name. Returns
// their ids; nullopt, with a note on stderr, when the sweep cannot be planned here (then every run,
// with runs.arm and the name of the sweep that recorded it). `trials`, when
// given, is set to the number of distinct trials the sweep plans; `other_seeds` to the finished
// runs of those trials at seeds it does not plan (OtherSeeds).
struct OtherSeeds {
    std::map<int64_t, size_t> runs; // seed -> finished runs of the sweep's trials at that seed
    std::vector<int64_t> planned;   // the seeds the sweep as written plans
    std::set<int64_t> ids;          // the runs counted in `runs`
};
std::optional<std::set<int64_t>> share_sweep_runs(Store& store, const std::string& sweep, const SweepVariant& variant,
                                                  size_t* trials = nullptr, OtherSeeds* other_seeds = nullptr);

// An empty sweep_runs, for queries tried before anything runs (cli/query_check.hpp).
void empty_sweep_runs(Store& store);

// Several sweeps' trials as written in one sweep_runs (`iclr query --sweep A --sweep B`), a row per
// sweep and run: a trial two of them share is a row of each. Each must be planned here, and their
// [sweep] names must differ (`sweep` tells their rows apart).
void share_sweeps_runs(Store& store, const std::vector<std::string>& sweeps, const SweepVariant& variant);

// What verify, table and the report say of runs of the sweep's trials at other seeds (`iclr run
// --set sweep.seeds=10` into the database, then a plain `iclr verify`, which leaves them out): how
// many, at which seeds, and the --set that plans them beside the planned ones. "" for none.
std::string other_seeds_note(const OtherSeeds& other_seeds);

// The other variants of the sweep named sweep_name that `iclr run` ran into the database (with
// another --profile or --set than `variant`), as flags: "--profile ci; no --profile or --set", or ""
// for none. What a reader who ran `--profile ci` and verified without it is told.
std::string other_variants(Store& store, const std::string& sweep_name, const SweepVariant& variant);
// For a command that found none of the sweep's trials as given: "the database holds runs of NAME
// with --profile ci: pass the same flags to VERB those", or "" when it holds no other variant.
std::string other_variants_note(Store& store, const std::string& sweep_name, const SweepVariant& variant,
                                const std::string& verb);
// Why a command over several sweeps passes over one none of whose trials has run here, naming
// the other variants the database holds runs of (other_variants); sweeps with the same reason are
// named together.
std::string unrun_reason(Store& store, const std::string& db_path, const std::string& sweep_name,
                         const SweepVariant& variant);

// Another database's runs of the sweep's trials as written here (`verify --against`), in sweep_runs
// as above: the run with a trial's key, else, where that database was made with other plugin
// versions (so other keys), the run of the same plugins, parameters and seed (runs_by_config), else
// the run of the parameters both versions have (RunsBySharedParams: a version that added or dropped
// a parameter), else the run at the trial's place in the same sweep text (runs_by_place: a version
// that changed a default, say).
struct TrialRuns {
    std::map<int64_t, std::string> key_of; // run id -> the key of the trial it stands for, as planned here
    size_t by_config = 0;                  // how many of them were taken by their config without versions
    size_t by_shared_params = 0;           // ... by the parameters both versions have
    std::set<std::string> left_out;        // ... leaving out these (RunsBySharedParams::find)
    size_t by_place = 0;                   // ... and by their place in the sweep
};
std::optional<TrialRuns> share_trial_runs(Store& other, const std::string& sweep, const SweepVariant& variant);

// The run of each config without plugin versions (config_without_versions of runs.config_toml): of
// several, a finished one, the latest. The same trial run with other plugin versions, whatever sweep
// text ran it (`verify --against`, `iclr diff --against`).
std::map<std::string, int64_t> runs_by_config(Store& store);

// The run that `iclr run`s of one sweep text (its name, the SHA-256 of its text with any --set,
// its profile) recorded at each place in it, by (arm as runs.arm stores it, "" for none; grid
// index): of several, a finished one, the latest. What stands for a trial in a database made with
// other plugin versions (share_trial_runs, `iclr diff --against`).
std::map<std::pair<std::string, int64_t>, int64_t>
runs_by_place(Store& store, const std::string& name, const std::string& source_sha256, const std::string& profile);

} // namespace iclr
