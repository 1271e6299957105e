// Result-set rendering: aligned table, CSV, JSON and Markdown, row by row.
#include "cli/table.hpp"

#include <algorithm>
#include <cstdio>

#include "common/errors.hpp"
#include "common/values.hpp"

namespace iclr {
namespace {

// Display width in code points, so UTF-8 text lines up.
size_t width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

std::string csv_field(const std::string& s) {
    return s.find_first_of(",\"\n\r") == std::string::npos ? s : quote_doubling(s, '"');
}

// JSON has no NaN or infinity: such numbers are written as the strings "nan", "inf", "-inf".
bool is_nonfinite_text(const std::string& s) { return s == "nan" || s == "inf" || s == "-inf" || s == "-nan"; }

// Markdown table cell: a '|' would end the cell, a newline the row.
std::string markdown_cell(std::string v) {
    std::string o;
    for (char c : v)
        o += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
    return o;
}

// s with the characters a terminal could obey written with `escape` ("\\x%02x", or "\\u%04x" inside
// a JSON string): C0 controls when c0 (newline and tab kept when keep_lines), DEL, and the C1 range
// U+0080-U+009F (UTF-8 C2 80-9F).
std::string escape_controls(std::string_view s, const char* escape, bool c0, bool keep_lines) {
    std::string o;
    o.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                  static_cast<unsigned char>(s[i + 1]) <= 0x9F;
        if ((c0 && c < 0x20 && !(keep_lines && (c == '\n' || c == '\t'))) || c == 0x7F || c1) {
            char buf[8];
            std::snprintf(buf, sizeof buf, escape, c1 ? static_cast<unsigned char>(s[++i]) : c);
            o += buf;
        } else {
            o += char(c);
        }
    }
    return o;
}

} // namespace

std::string printable(std::string_view s, bool keep_lines) { return escape_controls(s, "\\x%02x", true, keep_lines); }

RowWriter::RowWriter(Format f, std::function<void(std::string_view)> out, bool to_terminal)
    : f_(f), out_(std::move(out)), escape_(to_terminal || f == Format::Table || f == Format::Markdown) {}

std::string RowWriter::shown(const std::string& s) const {
    if (!escape_) return s;
    // A JSON string already has its C0 controls as \u00NN (json_escape): DEL and C1 join them.
    return f_ == Format::Json ? escape_controls(s, "\\u%04x", false, false) : printable(s, false);
}

void RowWriter::columns(const std::vector<std::string>& names) {
    columns_ = names;
    if (f_ == Format::Csv) {
        std::string l;
        for (size_t c = 0; c < names.size(); ++c)
            l += (c ? "," : "") + csv_field(shown(names[c]));
        out_(l + "\n");
    } else if (f_ == Format::Json) {
        out_("[");
    } else if (f_ == Format::Markdown) {
        std::string l = "|", rule = "|";
        for (const auto& c : names) {
            l += " " + markdown_cell(shown(c)) + " |";
            rule += " --- |";
        }
        out_(l + "\n" + rule + "\n");
    }
}

void RowWriter::row(const std::vector<Cell>& cells) {
    ++rows_;
    if (f_ == Format::Table) {
        if (sized_)
            return table_line([&] {
                std::vector<std::string> v;
                for (const auto& c : cells)
                    v.push_back(c.null ? "NULL" : c.text);
                return v;
            }());
        window_.push_back(cells);
        if (window_.size() >= kTableWindow) flush_window();
        return;
    }
    std::string l;
    for (size_t c = 0; c < cells.size(); ++c) {
        const Cell& v = cells[c];
        if (f_ == Format::Csv) {
            l += (c ? "," : "") + csv_field(shown(v.null ? "" : v.text));
        } else if (f_ == Format::Markdown) {
            l += (c ? " " : "| ") + markdown_cell(shown(v.null ? "NULL" : v.text)) + " |";
        } else { // JSON
            l += (c ? ", " : (rows_ > 1 ? ",\n {" : "\n {")) + shown(json_escape(columns_[c])) + ": ";
            if (v.null)
                l += "null";
            else if (v.number && !is_nonfinite_text(v.text))
                l += v.text;
            else
                l += shown(json_escape(v.text));
        }
    }
    if (f_ == Format::Json) l += cells.empty() ? (rows_ > 1 ? ",\n {}" : "\n {}") : "}";
    out_(f_ == Format::Json ? l : l + "\n");
}

void RowWriter::flush_window() {
    width_.assign(columns_.size(), 0);
    for (size_t c = 0; c < columns_.size(); ++c)
        width_[c] = width(shown(columns_[c]));
    for (const auto& r : window_)
        for (size_t c = 0; c < r.size(); ++c)
            width_[c] = std::max(width_[c], std::min(kMaxCell, width(shown(r[c].null ? "NULL" : r[c].text))));
    sized_ = true;
    table_line(columns_);
    std::vector<std::string> rule;
    for (size_t w : width_)
        rule.push_back(std::string(w, '-'));
    table_line(rule);
    for (const auto& r : window_) {
        std::vector<std::string> v;
        for (const auto& c : r)
            v.push_back(c.null ? "NULL" : c.text);
        table_line(v);
    }
    window_.clear();
}

void RowWriter::table_line(const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < cells.size(); ++c) {
        std::string v = shown(cells[c]);
        bool last = c + 1 == cells.size(); // the last column is never cut: errors live there
        if (!last && width(v) > kMaxCell) v = v.substr(0, kMaxCell - 3) + "...";
        l += (c ? "  " : "") + v + (last ? "" : std::string(width_[c] - std::min(width_[c], width(v)), ' '));
    }
    while (!l.empty() && l.back() == ' ')
        l.pop_back();
    out_(l + "\n");
}

void RowWriter::finish() {
    if (f_ == Format::Table) {
        if (!sized_) flush_window();
        out_("(" + std::to_string(rows_) + (rows_ == 1 ? " row)\n" : " rows)\n"));
    } else if (f_ == Format::Json) {
        out_(rows_ ? "\n]\n" : "]\n");
    }
}

std::string render(const ResultSet& rs, Format f) {
    std::string out;
    RowWriter w(
        f, [&](std::string_view s) { out += s; }, false);
    w.columns(rs.columns);
    for (size_t r = 0; r < rs.rows.size(); ++r) {
        std::vector<Cell> cells;
        for (size_t c = 0; c < rs.columns.size(); ++c)
            cells.push_back(
                {rs.rows[r][c], !rs.is_null.empty() && rs.is_null[r][c], !rs.is_number.empty() && rs.is_number[r][c]});
        w.row(cells);
    }
    w.finish();
    return out;
}

Format parse_format(const std::string& name) {
    if (name == "table") return Format::Table;
    if (name == "csv") return Format::Csv;
    if (name == "json") return Format::Json;
    if (name == "markdown" || name == "md") return Format::Markdown;
    throw UserError("unknown --format '" + name + "' (table, csv, json, markdown)");
}

} // namespace iclr
