// What to add to SQLite's "no such function / table / column" so that a typo names its fix.
#pragma once

#include <sqlite3.h>

#include <string>

namespace iclr {

// For SQLite's error message `msg` on connection `db`: " (did you mean 'stdev'?)" for a
// function, table or column name one or two edits from one that exists; for a function or a table
// with none near, the names there are (iclr's statistics; the tables and views); for sweep_runs,
// that --sweep FILE makes it; else "".
std::string sql_error_hint(sqlite3* db, const std::string& msg);

} // namespace iclr
