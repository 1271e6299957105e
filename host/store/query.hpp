// Read-only SQL over the results database, guarded by an authorizer (no write can go through).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/result_set.hpp"
#include "store/sqlite_util.hpp"
#include "store/store.hpp"

namespace iclr {

// Runs one statement. Refuses, with a UserError naming what was refused: any write, ATTACH/DETACH,
// a PRAGMA that sets something, and more than one statement.
// `precise` keeps full float precision (csv/json); otherwise floats print with 6 digits.
ResultSet run_query(Store& store, const std::string& sql, bool precise);
// The same, row by row as SQLite produces them (nothing is held): on_columns once, then on_row
// for each row until it returns false.
void stream_query(Store& store, const std::string& sql, bool precise,
                  const std::function<void(const std::vector<std::string>&)>& on_columns,
                  const std::function<bool(const std::vector<Cell>&)>& on_row);

// SQL for a `params` row's value as the sweep writes it: `alias`.value, a bool (stored 1 / 0, SQL
// has none) as 'true' / 'false'. For display (`iclr table`, `iclr diff`); comparisons use the value.
std::string param_text_sql(const std::string& alias);

// A prepared statement's rows (the host's own SQL, with bound values), cells as run_query makes them.
ResultSet result_of(Statement& st, bool precise);

// The runs a result row names: its `run_id` cell, its `base_run_id` cell (a row pairing two runs)
// and each id in its `run_ids` cell (a row averaging runs: GROUP_CONCAT(r.id), comma-separated).
// NULL cells name none.
std::vector<int64_t> runs_of_row(const ResultSet& rs, size_t row);
// Whether a query's rows say which runs they come from (a run_id or run_ids column).
bool names_runs(const ResultSet& rs);

// The rows of a query that belong to `runs`: a row naming a run outside it (runs_of_row) is left
// out and counted in *left_out. Rows naming no run keep; nullopt keeps everything.
ResultSet rows_of_runs(const ResultSet& rs, const std::optional<std::set<int64_t>>& runs, size_t* left_out = nullptr);

} // namespace iclr
