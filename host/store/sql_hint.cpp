// Hints for SQLite's name errors: the nearest function, table or column, or the names there are.
#include "store/sql_hint.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "common/nearest_name.hpp"
#include "common/values.hpp"
#include "store/sql_stats.hpp"

namespace iclr {
namespace {

// The first column of every row of `sql`, distinct, in order; none when it cannot run.
std::vector<std::string> names_of(sqlite3* db, const char* sql) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK)
        while (sqlite3_step(stmt) == SQLITE_ROW)
            if (const unsigned char* t = sqlite3_column_text(stmt, 0); t && seen.insert((const char*)t).second)
                out.emplace_back((const char*)t);
    sqlite3_finalize(stmt);
    return out;
}

// The tables and views of one attached database ("main": and the temporary ones, as --sweep's
// sweep_runs).
std::string tables_sql(const std::string& schema) {
    std::string sql = "SELECT name FROM " + quote_doubling(schema, '"') +
                      ".sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'";
    return schema == "main" ? sql + " UNION ALL SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view')"
                            : sql;
}

std::string function_hint(sqlite3* db, const std::string& name) {
    if (std::string near = did_you_mean(name, names_of(db, "SELECT name FROM pragma_function_list")); !near.empty())
        return near;
    std::vector<std::string> ours = stats::function_names(), starting;
    for (const auto& f : ours)
        if (f.rfind(name, 0) == 0) starting.push_back(f);
    if (!starting.empty()) return " (did you mean " + names_list(starting) + "?)";
    return " (iclr adds " + names_list(ours) + " to SQLite's own; PRAGMA function_list lists every one)";
}

// `name` as written: "metric", or "o.runs" for a table of a database attached as o.
std::string table_hint(sqlite3* db, const std::string& name) {
    size_t dot = name.find('.');
    std::string schema = dot == std::string::npos ? "main" : name.substr(0, dot);
    std::vector<std::string> attached = names_of(db, "SELECT name FROM pragma_database_list");
    if (std::find(attached.begin(), attached.end(), schema) == attached.end())
        return " (no database is attached as '" + schema + "': --attach " + schema + "=FILE)";
    // The one table iclr's commands make for a query: `iclr query` makes it when given a sweep.
    if (name == "sweep_runs" || name == "temp.sweep_runs")
        return " (the trials of a sweep as written: pass --sweep FILE)";
    return did_you_mean_or_all(name.substr(dot == std::string::npos ? 0 : dot + 1),
                               names_of(db, tables_sql(schema).c_str()),
                               "the tables and views" + (dot == std::string::npos ? "" : " of " + schema));
}

// Any column of the main database's tables and views, or of the temporary ones (sweep_runs).
std::string column_hint(sqlite3* db, const std::string& name) {
    std::string sql = "SELECT p.name FROM (" + tables_sql("main") + ") s, pragma_table_info(s.name) p";
    return did_you_mean(name, names_of(db, sql.c_str()));
}

// The name after `prefix` in msg, without a schema or table qualifier ("f.vale" -> "vale").
std::string named(const std::string& msg, const std::string& prefix) {
    std::string name = msg.substr(prefix.size());
    size_t dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

} // namespace

std::string sql_error_hint(sqlite3* db, const std::string& msg) {
    const std::string fn = "no such function: ", table = "no such table: ", column = "no such column: ";
    if (msg.rfind(fn, 0) == 0) return function_hint(db, named(msg, fn));
    if (msg.rfind(table, 0) == 0) return table_hint(db, msg.substr(table.size()));
    if (msg.rfind(column, 0) == 0) return column_hint(db, named(msg, column));
    return "";
}

} // namespace iclr
