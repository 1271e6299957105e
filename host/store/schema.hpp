// The database schema as an ordered list of migrations; user_version = how many were applied.
#pragma once

#include <vector>

namespace iclr {

// migrations()[i] takes a database from schema version i to i + 1. Append only: never edit a
// released step, add a new one.
const std::vector<const char*>& migrations();
inline int schema_version() { return int(migrations().size()); }

} // namespace iclr
