// Conversions between TOML nodes, iclr::Value, TOML literals and JSON text.
#pragma once

#include <optional>
#include <string>

#include <toml++/toml.h>

#include "iclr/params.hpp"

namespace iclr {

// A TOML scalar or array as a Value; nullopt for tables, dates and times.
std::optional<Value> value_from_toml(const toml::node& node);
// Parses a TOML value literal such as `0.01`, `"cls"` or `[[0,1],[2,3]]`.
std::optional<Value> value_from_literal(const std::string& literal);
std::string value_to_toml(const Value& v);
// A float as the shortest text that reads back as the same float, and as a float: 1.0 (not 1),
// 0.25, 1e+300, nan, inf, -inf (TOML's spelling, and the sqlite3 shell's for a REAL).
std::string float_text(double f);
// A float to six significant digits, as printf's %.6g gives it (0.5, 1e-07, nan): how `iclr show`,
// `iclr diff`, query tables and verify's notes print a value for reading, not for reading back.
std::string six_digits(double f);
// The same to four digits (%.4g): an estimate or an interval's end as verify, its comparison and
// the report print it.
std::string four_digits(double f);
std::string value_to_json(const Value& v);
std::string json_escape(const std::string& s);
// s between two `q`s, each q inside doubled: an SQL literal ('), an SQL name or a CSV field (").
std::string quote_doubling(const std::string& s, char q);
const char* value_type_name(Value::Type t);
// A plugin section as canonical text, "name@version { k = v ... }" with the parameters in key
// order: the same plugin, version and parameters give the same text. The worker's
// Session::config_text (content keys of cached stages) and the run queue's shared-stage groups.
std::string section_text(const std::string& name, const std::string& version, const ParamSet& params);
// The parameters as a TOML inline table in key order, "{ a = 1, b = \"x\" }" ("{}" for none): the
// `params = ` line of a trial's canonical config and of the worker's payload.
std::string inline_table(const ParamSet& params);

} // namespace iclr
