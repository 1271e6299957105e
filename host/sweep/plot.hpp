// A figure a sweep declares for `iclr report`: a query and which of its columns go where.
#pragma once

#include <string>

#include "common/errors.hpp"

namespace iclr {

// [[plot]] title = "...", sql = "SELECT ...", x = "col", y = "col", color = "col", facet = "col",
//          mark = "line" | "point" | "bar" | "heatmap", error_bars = true, x_log = true, y_log = false
// With error_bars (the default), rows that share x, color and facet are one point: the mean of y
// and its 95% interval over those rows (seeds, usually); without, every row is drawn. A heatmap
// (an accuracy matrix) has a cell per (x, y) whose colour is the mean of the `color` column.
struct PlotSpec {
    std::string title, sql, x, y, color, facet, mark = "line";
    bool error_bars = true, x_log = false, y_log = false;
    SourcePos pos;     // the [[plot]] table
    SourcePos sql_pos; // the sql = "..." value, for SQL errors
};

} // namespace iclr
