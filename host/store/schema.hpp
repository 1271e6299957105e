// The database schema as an ordered list of migrations; user_version = how many were applied.
#pragma once

#include <string>
#include <vector>

#include <sqlite3.h>

namespace iclr {

// migrations()[i] takes a database from schema version i to i + 1. Append only: never edit a
// released step, add a new one.
const std::vector<const char*>& migrations();
inline int schema_version() { return int(migrations().size()); }
// The SQL functions the migrations call (iclr_config_in_key_order, iclr_trial_key,
// iclr_config_json), on the connection that migrates; not registered for users' queries.
void register_migration_functions(sqlite3* db);
// Throws UserError "<where>: database schema version V is newer than this iclr ..." when version
// is past what this binary knows (reading or writing such a database could misread it).
void require_known_version(const std::string& where, int version);

} // namespace iclr
