// A sweep's runs as one flat table (`iclr table`, the report's CSV): a row per run, what differs
// between the runs and their final metrics as columns, as one SQL query.
#pragma once

#include <cstddef>
#include <string>

#include "store/store.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

struct FlatTableOptions {
    bool all_params = false; // every parameter and attribute, not only those that differ
    bool per_task = false;   // a column per task of each per-task metric (acc[0], acc[1], ...)
};

// The sweep's runs the database holds: the rows of the TEMP table `sweep_runs` (share_sweep_runs)
// that name a run.
size_t sweep_run_count(Store& store);

// The query over `sweep_runs` (shared first): `run_id`, `arm` (when the sweep has arms), `status`,
// `seed`, each section's plugin, parameter and attribute that differs between the runs that have
// it or that the sweep (`file` as `variant` reads it) states and some runs lack, then each final
// metric.
std::string flat_table_sql(Store& store, const std::string& file, const SweepVariant& variant,
                           const FlatTableOptions& o);

} // namespace iclr
