// Two runs side by side for `iclr diff`: their differing parameters and provenance, and every
// final metric of either with both values.
#pragma once

#include <optional>
#include <string>

#include "store/result_set.hpp"
#include "store/run_details.hpp"

namespace iclr {

struct RunDiff {
    RunDetails a, b;
    ResultSet config;     // key, a, b: parameters (and seed) that differ, or that one run lacks
    ResultSet provenance; // field, a, b: sweep, status, plugins, git, host, libtorch... that differ
    int64_t config_same = 0, provenance_same = 0;
    ResultSet metrics; // key, task, a, b, b - a: every final metric of either run
};

// By run id or key prefix (as `iclr show`); nullopt names which of the two is missing. Run a is
// read from store_a, run b from store_b: the same store, or another database (`iclr diff
// --against`), whose runs are labelled "run N (against)".
struct RunDiffResult {
    std::optional<RunDiff> diff;
    std::string missing; // the argument that matched no run
};
RunDiffResult load_run_diff(Store& store_a, const std::string& a, Store& store_b, const std::string& b);

} // namespace iclr
