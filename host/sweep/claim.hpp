// A claim a sweep states about its results: a query returning per-seed values and a test kind.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "iclr/params.hpp"

namespace iclr {

// One condition of a claim's `where`: a run column (arm, dataset, model, method) or a parameter
// ("method.lr", "metric.accuracy.batch") compared with `values` by `op`, exclude's operators.
struct ClaimFilter {
    std::string key;
    std::string op;            // eq ne lt le gt ge (one value; lt..ge a number), in (any of the values),
                               // at ("max" / "min": the value among the trials of the sweep as written), or
                               // argmax / argmin (a final metric's key: the value tuned on it, claim_sql.cpp)
    std::vector<Value> values; // scalars
    SourcePos pos;
    std::vector<int64_t> tune_seeds; // argmax / argmin with seeds = [...]: rank on these, measure the rest
    bool is_tuned() const { return op == "argmax" || op == "argmin"; }
    std::string tune_seeds_text() const; // "0, 1, 2": as the query lists them and verify's note names them
};

// [[claim]] name = "...", source = "...", kind = "less", sql = "SELECT ...", a = "...", b = "..."
//   less / greater        mean(value | group = a) - mean(value | group = b) < 0 / > 0 (paired by seed
//                         when both groups have the same seeds)
//   increasing/decreasing Spearman rho of (x, value) > 0 / < 0
//   about                 |difference| <= tolerance: a and b, or the mean against `target`
//   at_most / at_least    mean(value) <= / >= threshold
// binary = true: every value is 0 or 1, one per seed and group (a run collapsed or not), and the CI
// covers the exact binomial one (claims/evaluate.cpp), not only the bootstrap's.
// The query's columns: `value` always; `seed` (the bootstrap resamples seeds; rows otherwise);
// `x` for increasing/decreasing; `grp` (or `arm`) naming the group for less/greater/about;
// `run_id` (optional) records which runs the verdict used; a row that is a difference of two runs
// names the other in `base_run_id`, and counts only when both are trials of the sweep as written.
//
// Instead of sql, the common query in keys (claim_sql.cpp writes it, and it is what verify runs
// and records): metric = "ood_accuracy" (a final metric's key), task = N (one task's value),
// where = { "method.pretrain_objective" = "vicreg", arm = ["ft", "lp"], "model.width" = { ge = 64 } }
// (or "model.width" = { at = "max" }: the sweep's largest width, over the sweep_runs table; or
// "method.lr" = { argmax = "avg_accuracy" }: each arm, width, ... at the lr whose seeds' mean
// avg_accuracy is highest among the sweep's finished trials),
// group = "arm" (a and b's column: arm, the default, dataset, model, method or a parameter; or
// "metric": a and b are two final metrics of the same runs, and the claim has no metric key),
// x = "model.width" (the parameter increasing/decreasing test against; x = { metric = "arc" } another
// final metric of the same run, of the same task as the value). Its names are checked
// against the arms and the plugins' schemas (claim_keys.cpp) before a sweep runs.
struct ClaimSpec {
    std::string name, source, kind, sql, a, b;
    std::optional<double> tolerance, threshold, target;
    bool binary = false; // binary = true: each run's value is 0 or 1 (an event: collapsed or not)
    SourcePos pos;       // the [[claim]] table
    SourcePos sql_pos;   // the sql = "..." value, for SQL errors (the metric = "..." value for the keys form)
    std::string metric, group, x;
    std::optional<int64_t> task;
    std::vector<ClaimFilter> where;
    SourcePos group_pos, x_pos;
    bool x_is_metric = false; // x = { metric = "..." }: x is a final metric's key
    bool group_is_metric() const { return group == "metric"; }
    bool from_keys() const { return !metric.empty() || group_is_metric(); }
    // x names a run attribute (param_count: what a plugin records at run time) when it is neither
    // a metric nor a SECTION.KEY parameter.
    bool x_is_attribute() const { return !x.empty() && !x_is_metric && x.find('.') == std::string::npos; }
    bool x_is_parameter() const { return !x.empty() && !x_is_metric && !x_is_attribute(); }
};

// The SQL of a claim written with metric = "..." (and where, group, x, task).
std::string claim_sql(const ClaimSpec& c);
// The where / group keys that are columns of runs (arm, dataset, model, method), not parameters.
bool is_claim_run_column(const std::string& key);

} // namespace iclr
