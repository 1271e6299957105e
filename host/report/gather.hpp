// Reads what `iclr report` shows from the store: the runs of the sweep (its trials as written, or
// every run of a sweep of that name), provenance, statuses, figures, saved queries, failures.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "report/report.hpp"
#include "store/store.hpp"
#include "sweep/sweep.hpp"

namespace iclr::report {

// `current`: the sweep's trials as written, which the caller has put in the TEMP table sweep_runs
// with their arms (cli/claim_check.hpp; nullopt: every run of a sweep named spec.name, runs.arm).
// Claims are the caller's (it computes verdicts as `iclr verify` does). A [[plot]] whose query
// fails or lacks its columns is a SweepError at the plot's sql position.
Report gather(Store& store, const SweepSpec& spec, const std::string& db_path,
              const std::optional<std::set<int64_t>>& current);

// A [[plot]]'s rows (of `current`'s runs, as above), or a SweepError at its sql position when its
// query fails or lacks a column the plot names.
ResultSet plot_rows(Store& store, const PlotSpec& p, const std::optional<std::set<int64_t>>& current);

} // namespace iclr::report
