// Query execution: authorizer allow-list + sqlite3_stmt_readonly, on a connection opened read-only.
#include "store/query.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <set>

#include "common/values.hpp"
#include "store/sql_hint.hpp"

namespace iclr {
namespace {

struct Guard {
    std::string refused;
};

const std::set<std::string> kPragmasWithArg{"table_info", "table_xinfo", "index_list",
                                            "index_info", "index_xinfo", "foreign_key_list"};
const std::set<std::string> kPragmasNoArg{"user_version",    "schema_version", "table_list",     "database_list",
                                          "compile_options", "page_count",     "page_size",      "journal_mode",
                                          "integrity_check", "quick_check",    "collation_list", "function_list"};

// Functions no query needs that hand out process internals: fts3_tokenizer() returns a pointer
// (an address-space leak) and, with two arguments, would install one.
const std::set<std::string> kDeniedFunctions{"fts3_tokenizer", "load_extension", "readfile", "writefile", "edit"};

std::string lower(std::string s) {
    for (auto& c : s)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

const char* action_name(int code) {
    switch (code) {
    case SQLITE_INSERT:
        return "INSERT";
    case SQLITE_UPDATE:
        return "UPDATE";
    case SQLITE_DELETE:
        return "DELETE";
    case SQLITE_ATTACH:
        return "ATTACH";
    case SQLITE_DETACH:
        return "DETACH";
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_TABLE:
        return "CREATE TABLE";
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX:
        return "CREATE INDEX";
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW:
        return "CREATE VIEW";
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER:
        return "CREATE TRIGGER";
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE:
        return "DROP TABLE";
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX:
        return "DROP INDEX";
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW:
        return "DROP VIEW";
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER:
        return "DROP TRIGGER";
    case SQLITE_ALTER_TABLE:
        return "ALTER TABLE";
    case SQLITE_TRANSACTION:
        return "a transaction statement";
    case SQLITE_SAVEPOINT:
        return "SAVEPOINT";
    case SQLITE_ANALYZE:
        return "ANALYZE";
    case SQLITE_REINDEX:
        return "REINDEX";
    case SQLITE_CREATE_VTABLE:
        return "CREATE VIRTUAL TABLE";
    case SQLITE_DROP_VTABLE:
        return "DROP VIRTUAL TABLE";
    case SQLITE_PRAGMA:
        return "PRAGMA";
    }
    return "this statement";
}

int authorize(void* user, int code, const char* a, const char* b, const char*, const char*) {
    auto* g = static_cast<Guard*>(user);
    switch (code) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION: // b: the function's name
        if (b && kDeniedFunctions.count(lower(b))) {
            g->refused = std::string("the function ") + b + "()";
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    case SQLITE_PRAGMA: {
        std::string name = lower(a ? a : "");
        if (kPragmasWithArg.count(name) || (kPragmasNoArg.count(name) && !b)) return SQLITE_OK;
        g->refused = "PRAGMA " + name + (b ? " = " + std::string(b) : std::string());
        return SQLITE_DENY;
    }
    default: {
        // DDL also touches sqlite_master; name the statement, not that side effect.
        bool schema_side_effect = (code == SQLITE_INSERT || code == SQLITE_UPDATE || code == SQLITE_DELETE) && a &&
                                  (std::strcmp(a, "sqlite_master") == 0 || std::strcmp(a, "sqlite_temp_master") == 0);
        if (schema_side_effect) {
            // Let preparation go on so the DDL statement itself is reported (and denied) by name;
            // sqlite3_stmt_readonly still refuses the statement if nothing else does. Reading the
            // schema table's columns (an UPDATE to the authorizer) is no change: a read that uses a
            // table-valued function (json_each, json_tree, pragma_table_info) does it to set up its
            // virtual table, and DDL also inserts or deletes its row.
            if (g->refused.empty() && code != SQLITE_UPDATE) g->refused = "a schema change";
            return SQLITE_IGNORE;
        }
        if (g->refused.empty() || g->refused == "a schema change") g->refused = action_name(code);
        return SQLITE_DENY;
    }
    }
}

bool only_space_or_comments(const char* s) {
    while (*s) {
        if (std::isspace(static_cast<unsigned char>(*s)) || *s == ';') {
            ++s;
            continue;
        }
        if (s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n')
                ++s;
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char* end = std::strstr(s + 2, "*/");
            if (!end) return true;
            s = end + 2;
            continue;
        }
        return false;
    }
    return true;
}

// A REAL as text that stays a REAL: 1.0 prints "1.0", not "1" (as the sqlite3 shell and Python
// print it), so a CSV column of whole-number floats is not read back as integers.
std::string fmt_real(double v, bool precise) {
    if (precise) return float_text(v); // shortest round-trip
    std::string text = six_digits(v);
    if (text.find_first_of(".en") == std::string::npos) text += ".0"; // not 1e+06, nan, inf
    return text;
}

Cell cell_of(sqlite3_stmt* stmt, int c, bool precise) {
    Cell cell;
    int t = sqlite3_column_type(stmt, c);
    cell.null = t == SQLITE_NULL;
    cell.number = t == SQLITE_INTEGER || t == SQLITE_FLOAT;
    if (t == SQLITE_FLOAT) {
        cell.text = fmt_real(sqlite3_column_double(stmt, c), precise);
    } else if (t == SQLITE_BLOB) {
        cell.text = "<blob " + std::to_string(sqlite3_column_bytes(stmt, c)) + " bytes>";
    } else if (t != SQLITE_NULL) {
        const unsigned char* txt = sqlite3_column_text(stmt, c);
        cell.text = txt ? reinterpret_cast<const char*>(txt) : "";
    }
    return cell;
}

} // namespace

void stream_query(Store& store, const std::string& sql, bool precise,
                  const std::function<void(const std::vector<std::string>&)>& on_columns,
                  const std::function<bool(const std::vector<Cell>&)>& on_row) {
    sqlite3* db = store.db();
    Guard guard;
    sqlite3_set_authorizer(db, authorize, &guard);
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.c_str(), int(sql.size()), &stmt, &tail);
    sqlite3_set_authorizer(db, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = sqlite3_errmsg(db);
        sqlite3_finalize(stmt);
        if (!guard.refused.empty())
            throw UserError("iclr query is read-only: " + guard.refused + " is refused (use a SELECT)");
        throw UserError("SQL error: " + msg + sql_error_hint(db, msg));
    }
    if (!stmt) throw UserError("SQL error: empty statement");
    if (tail && !only_space_or_comments(tail)) {
        sqlite3_finalize(stmt);
        throw UserError("iclr query runs one statement at a time; found more after the first ';'");
    }
    if (!sqlite3_stmt_readonly(stmt) || !guard.refused.empty()) {
        sqlite3_finalize(stmt);
        throw UserError(
            "iclr query is read-only: " + (guard.refused.empty() ? std::string("this statement") : guard.refused) +
            " is refused (use a SELECT)");
    }
    int n = sqlite3_column_count(stmt);
    std::vector<std::string> columns;
    for (int c = 0; c < n; ++c)
        columns.push_back(sqlite3_column_name(stmt, c));
    on_columns(columns);
    std::vector<Cell> row(static_cast<size_t>(n));
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int c = 0; c < n; ++c)
            row[size_t(c)] = cell_of(stmt, c, precise);
        if (!on_row(row)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    if (!err.empty()) throw UserError("SQL error: " + err);
}

ResultSet run_query(Store& store, const std::string& sql, bool precise) {
    ResultSet rs;
    stream_query(
        store, sql, precise, [&](const std::vector<std::string>& cols) { rs.columns = cols; },
        [&](const std::vector<Cell>& row) {
            std::vector<std::string> text;
            std::vector<bool> nulls, nums;
            for (const auto& c : row) {
                text.push_back(c.text);
                nulls.push_back(c.null);
                nums.push_back(c.number);
            }
            rs.rows.push_back(std::move(text));
            rs.is_null.push_back(std::move(nulls));
            rs.is_number.push_back(std::move(nums));
            return true;
        });
    return rs;
}

ResultSet result_of(Statement& st, bool precise) {
    ResultSet rs;
    int n = sqlite3_column_count(st.raw());
    for (int c = 0; c < n; ++c)
        rs.columns.push_back(sqlite3_column_name(st.raw(), c));
    while (st.step()) {
        rs.rows.emplace_back();
        rs.is_null.emplace_back();
        rs.is_number.emplace_back();
        for (int c = 0; c < n; ++c) {
            Cell cell = cell_of(st.raw(), c, precise);
            rs.rows.back().push_back(std::move(cell.text));
            rs.is_null.back().push_back(cell.null);
            rs.is_number.back().push_back(cell.number);
        }
    }
    return rs;
}

std::vector<int64_t> runs_of_row(const ResultSet& rs, size_t row) {
    std::vector<int64_t> ids;
    for (size_t c = 0; c < rs.columns.size(); ++c) {
        const std::string& name = rs.columns[c];
        if (rs.is_null[row][c] || (name != "run_id" && name != "base_run_id" && name != "run_ids")) continue;
        const std::string& cell = rs.rows[row][c];
        for (size_t at = 0; at < cell.size();) { // one id, or run_ids' comma-separated list
            size_t comma = std::min(cell.find(',', at), cell.size());
            ids.push_back(std::strtoll(cell.c_str() + at, nullptr, 10));
            at = comma + 1;
        }
    }
    return ids;
}

bool names_runs(const ResultSet& rs) {
    return std::any_of(rs.columns.begin(), rs.columns.end(),
                       [](const std::string& c) { return c == "run_id" || c == "run_ids"; });
}

ResultSet rows_of_runs(const ResultSet& rs, const std::optional<std::set<int64_t>>& runs, size_t* left_out) {
    if (!runs) return rs;
    ResultSet out;
    out.columns = rs.columns;
    for (size_t r = 0; r < rs.rows.size(); ++r) {
        std::vector<int64_t> ids = runs_of_row(rs, r);
        if (!std::all_of(ids.begin(), ids.end(), [&](int64_t id) { return runs->count(id) > 0; })) {
            if (left_out) ++*left_out;
            continue;
        }
        out.rows.push_back(rs.rows[r]);
        out.is_null.push_back(rs.is_null[r]);
        out.is_number.push_back(rs.is_number[r]);
    }
    return out;
}

std::string param_text_sql(const std::string& alias) {
    return "CASE WHEN " + alias + ".type = 'bool' THEN CASE WHEN " + alias +
           ".value THEN 'true' ELSE 'false' END ELSE " + alias + ".value END";
}

} // namespace iclr
