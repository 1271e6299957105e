// Text output of result sets: aligned table, CSV, JSON (array of objects) and Markdown.
#pragma once

#include <string>

#include "store/result_set.hpp"

namespace iclr {

enum class Format { Table, Csv, Json, Markdown };

std::string render(const ResultSet& rs, Format f);
// "table", "csv", "json", "markdown" (or "md"); a UserError names the choices otherwise.
Format parse_format(const std::string& name);

} // namespace iclr
