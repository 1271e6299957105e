// A claim a sweep states about its results: a query returning per-seed values and a test kind.
#pragma once

#include <optional>
#include <string>

#include "common/errors.hpp"

namespace iclr {

// [[claim]] name = "...", source = "...", kind = "less", sql = "SELECT ...", a = "...", b = "..."
//   less / greater        mean(value | group = a) - mean(value | group = b) < 0 / > 0 (paired by seed
//                         when both groups have the same seeds)
//   increasing/decreasing Spearman rho of (x, value) > 0 / < 0
//   about                 |difference| <= tolerance: a and b, or the mean against `target`
//   at_most / at_least    mean(value) <= / >= threshold
// The query's columns: `value` always; `seed` (the bootstrap resamples seeds; rows otherwise);
// `x` for increasing/decreasing; `grp` (or `arm`) naming the group for less/greater/about;
// `run_id` (optional) records which runs the verdict used; a row that is a difference of two runs
// names the other in `base_run_id`, and counts only when both are trials of the sweep as written.
struct ClaimSpec {
    std::string name, source, kind, sql, a, b;
    std::optional<double> tolerance, threshold, target;
    SourcePos pos;     // the [[claim]] table
    SourcePos sql_pos; // the sql = "..." value, for SQL errors
};

} // namespace iclr
