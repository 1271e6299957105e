// Read-only SQL over the results database, guarded by an authorizer (no write can go through).
#pragma once

#include <string>

#include "store/result_set.hpp"
#include "store/store.hpp"

namespace iclr {

// Runs one statement. Refuses, with a UserError naming what was refused: any write, ATTACH/DETACH,
// a PRAGMA that sets something, and more than one statement.
// `precise` keeps full float precision (csv/json); otherwise floats print with 6 digits.
ResultSet run_query(Store& store, const std::string& sql, bool precise);

} // namespace iclr
