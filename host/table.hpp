// Text output of result sets: aligned table, CSV, JSON (array of objects) and Markdown.
#pragma once

#include <string>
#include <vector>

namespace iclr {

struct ResultSet {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::vector<bool>> is_null;   // per cell
    std::vector<std::vector<bool>> is_number; // per cell, for JSON
};

enum class Format { Table, Csv, Json, Markdown };

std::string render(const ResultSet& rs, Format f);

} // namespace iclr
