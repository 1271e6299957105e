// Thin RAII wrappers over the SQLite C API (prepared statements, errors as exceptions).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/errors.hpp"

namespace iclr {

// An SQL function of one text argument computed by F (NULL for NULL): trial_config() for users'
// queries, the migrations' functions of a config text.
template <std::string (*F)(const std::string&)>
void sql_text_function(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const auto* text = sqlite3_value_text(argv[0]);
    if (!text) return sqlite3_result_null(ctx);
    std::string out = F(std::string(reinterpret_cast<const char*>(text), size_t(sqlite3_value_bytes(argv[0]))));
    sqlite3_result_text(ctx, out.data(), int(out.size()), SQLITE_TRANSIENT);
}

class Statement {
  public:
    Statement(sqlite3* db, const std::string& sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, int64_t v);
    Statement& bind(int i, double v);
    Statement& bind(int i, const std::string& v);
    Statement& bind_null(int i);
    // NULL for "not known": an empty string, an empty optional, or a negative flag.
    Statement& bind_or_null(int i, const std::string& v) { return v.empty() ? bind_null(i) : bind(i, v); }
    Statement& bind_or_null(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }
    Statement& bind_flag(int i, int flag) { return flag < 0 ? bind_null(i) : bind(i, int64_t(flag)); }
    bool step(); // true while a row is available
    void run();  // step to completion, then reset
    void reset();
    int64_t col_int(int i) const { return sqlite3_column_int64(stmt_, i); }
    double col_double(int i) const { return sqlite3_column_double(stmt_, i); }
    std::string col_text(int i) const;
    bool col_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
    sqlite3_stmt* raw() { return stmt_; }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

void exec_sql(sqlite3* db, const std::string& sql);
std::string now_iso(); // UTC, seconds: 2026-11-29T06:11:51Z

} // namespace iclr
