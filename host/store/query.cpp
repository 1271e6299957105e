// Query execution: authorizer allow-list + sqlite3_stmt_readonly, on a connection opened read-only.
#include "store/query.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>

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
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_PRAGMA: {
        std::string name = a ? a : "";
        for (auto& c : name)
            c = char(std::tolower(static_cast<unsigned char>(c)));
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
            // sqlite3_stmt_readonly still refuses the statement if nothing else does.
            if (g->refused.empty()) g->refused = "a schema change";
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

std::string fmt_real(double v, bool precise) {
    char buf[64];
    if (!precise) {
        std::snprintf(buf, sizeof buf, "%.6g", v);
        return buf;
    }
    auto res = std::to_chars(buf, buf + sizeof buf, v); // shortest round-trip
    return std::string(buf, res.ptr);
}

} // namespace

ResultSet run_query(Store& store, const std::string& sql, bool precise) {
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
        throw UserError("SQL error: " + msg);
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
    ResultSet rs;
    int n = sqlite3_column_count(stmt);
    for (int c = 0; c < n; ++c)
        rs.columns.push_back(sqlite3_column_name(stmt, c));
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        std::vector<std::string> row;
        std::vector<bool> nulls, nums;
        for (int c = 0; c < n; ++c) {
            int t = sqlite3_column_type(stmt, c);
            nulls.push_back(t == SQLITE_NULL);
            nums.push_back(t == SQLITE_INTEGER || t == SQLITE_FLOAT);
            if (t == SQLITE_FLOAT)
                row.push_back(fmt_real(sqlite3_column_double(stmt, c), precise));
            else if (t == SQLITE_NULL)
                row.emplace_back();
            else if (t == SQLITE_BLOB)
                row.push_back("<blob " + std::to_string(sqlite3_column_bytes(stmt, c)) + " bytes>");
            else {
                const unsigned char* txt = sqlite3_column_text(stmt, c);
                row.emplace_back(txt ? reinterpret_cast<const char*>(txt) : "");
            }
        }
        rs.rows.push_back(std::move(row));
        rs.is_null.push_back(std::move(nulls));
        rs.is_number.push_back(std::move(nums));
    }
    std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    if (!err.empty()) throw UserError("SQL error: " + err);
    return rs;
}

} // namespace iclr
