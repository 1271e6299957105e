// One run with everything `iclr show` prints: row, provenance, attributes, final metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace iclr {

struct RunDetails {
    int64_t id = 0;
    // Text of each column as stored; "" for NULL (the show command prints "-").
    std::string key, status, sweep, sweep_id, dataset, model, method, seed, created_at, started_at, finished_at,
        duration_s, attempts, worker_pid, host, threads, device, torch_version, git_commit, config_toml, plugins_json,
        error, log_tail, exit_code, signal, diverged_step;
    std::string kernels;       // the worker's BLAS and ATen kernel sets; "" for runs before schema 7
    std::string arm;           // the [[arm]] the run belongs to; "" when its sweep has none
    std::string iclr_build;    // the build of iclr whose sweep invocation ran it (sweeps.iclr_version)
    std::string sweep_profile; // the [profile.*] the sweep ran with; "" for none
    std::string sweep_source;  // the sweep's text as run (with any --set overrides appended)
    std::string sweep_file;    // the sweep file's absolute path when it ran
    std::string slurm_attempt; // "<run folder>/<journal>@<offset>" when `iclr sync` brought it in; else ""
    int git_dirty = -1;        // -1 unknown
    std::vector<std::pair<std::string, std::string>> attributes;
    struct FinalMetric {
        std::string key;
        std::optional<int64_t> task;
        int64_t step = 0;
        double value = 0;
        std::string nonfinite; // "nan", "inf", "-inf"; "" when finite
    };
    std::vector<FinalMetric> final_metrics; // at most 200, by key and task
    struct PluginUse {
        std::string role, name, version, file, sha256; // role: dataset, model, method, metric.NAME
        std::string git;                               // built outside iclr's tree: its sources' commit, "" if not
        int git_dirty = -1;                            // -1 unknown
        // "0123456789ab (dirty)", as show and diff print it; "" when built in iclr's tree.
        std::string git_short() const {
            return git.empty() ? "" : git.substr(0, 12) + (git_dirty == 1 ? " (dirty)" : "");
        }
    };
    std::vector<PluginUse> plugins; // from plugins_json, by role
    int64_t metric_rows = 0;
};

// One row of the metrics table.
struct RecordedMetric {
    std::string key;
    std::optional<int64_t> task;
    int64_t step = 0;
    double value = 0; // a non-finite value as NaN or +-inf again (the table keeps it as NULL + nonfinite)
};
// Every metric row of a run, in the order they were recorded.
std::vector<RecordedMetric> load_metric_rows(Store& store, int64_t run);

// By run id, or by a key prefix of 6+ characters; nullopt when there is no such run.
std::optional<RunDetails> load_run_details(Store& store, const std::string& id_or_key);

} // namespace iclr
