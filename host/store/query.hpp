// Read-only SQL over the results database, guarded by an authorizer (no write can go through).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "store/result_set.hpp"
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

} // namespace iclr
