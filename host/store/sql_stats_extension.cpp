// The loadable SQLite extension iclr_stats.so: `.load iclr_stats` in the sqlite3 shell, or
// connection.load_extension(...) in Python, gives the same aggregates (and trial_config) that
// `iclr query` has. It calls the SQLite library it is loaded into (Debian's shell and Python link
// the same libsqlite3).
#include "store/sql_stats.hpp"

extern "C" __attribute__((visibility("default"))) int sqlite3_iclrstats_init(sqlite3* db, char**, const void*) {
    return iclr::stats::register_functions(db);
}
