// Text output of result sets: aligned table, CSV, JSON (array of objects) and Markdown, streamed.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/result_set.hpp"

namespace iclr {

enum class Format { Table, Csv, Json, Markdown };

// Writes rows as they arrive: CSV, JSON and Markdown at once, the table once its first
// kTableWindow rows have sized the columns (later rows keep those widths). Control characters
// and terminal escapes never reach the output raw in the display formats (table, Markdown), nor
// in any format when `to_terminal`: they show as \xNN (\u00NN inside JSON strings).
class RowWriter {
  public:
    static constexpr size_t kTableWindow = 1000;
    // A table cell's widest; longer text is cut with "..." (the last column's is not).
    static constexpr size_t kMaxCell = 60;
    RowWriter(Format f, std::function<void(std::string_view)> out, bool to_terminal);
    void columns(const std::vector<std::string>& names);
    void row(const std::vector<Cell>& cells);
    void finish();

  private:
    void flush_window();
    void table_line(const std::vector<std::string>& cells);
    std::string shown(const std::string& s) const;

    Format f_;
    std::function<void(std::string_view)> out_;
    bool escape_;
    std::vector<std::string> columns_;
    std::vector<std::vector<Cell>> window_; // the table's first rows, until widths are known
    std::vector<size_t> width_;
    bool sized_ = false;
    size_t rows_ = 0;
};

std::string render(const ResultSet& rs, Format f);
// "table", "csv", "json", "markdown" (or "md"); a UserError names the choices otherwise.
Format parse_format(const std::string& name);
// Text for a terminal: C0 controls (but newline and tab when keep_lines), DEL and the C1 range
// (U+0080-U+009F, which some terminals obey as escapes) as \xNN.
std::string printable(std::string_view s, bool keep_lines);

} // namespace iclr
