// The rows a query returned, as text cells with their SQL kinds (the CLI renders them).
#pragma once

#include <string>
#include <vector>

namespace iclr {

// One value of a row as text, with its SQL kind.
struct Cell {
    std::string text;
    bool null = false;
    bool number = false; // INTEGER or REAL (JSON writes it bare)
};

struct ResultSet {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::vector<bool>> is_null;   // per cell
    std::vector<std::vector<bool>> is_number; // per cell, for JSON
};

} // namespace iclr
