// Result-set rendering: aligned table, CSV, JSON and Markdown, one function each.
#include "cli/table.hpp"

#include <algorithm>

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
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s)
        o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
}

// A cell as text: NULL shows as "NULL" in tables and Markdown, as nothing in CSV.
std::string cell(const ResultSet& rs, size_t r, size_t c, Format f) {
    if (!rs.is_null.empty() && rs.is_null[r][c]) return f == Format::Table || f == Format::Markdown ? "NULL" : "";
    return rs.rows[r][c];
}

std::string render_csv(const ResultSet& rs) {
    std::string out;
    for (size_t c = 0; c < rs.columns.size(); ++c)
        out += (c ? "," : "") + csv_field(rs.columns[c]);
    out += "\n";
    for (size_t r = 0; r < rs.rows.size(); ++r) {
        for (size_t c = 0; c < rs.columns.size(); ++c)
            out += (c ? "," : "") + csv_field(cell(rs, r, c, Format::Csv));
        out += "\n";
    }
    return out;
}

// JSON has no NaN or infinity: such numbers are written as the strings "nan", "inf", "-inf".
bool is_nonfinite_text(const std::string& s) { return s == "nan" || s == "inf" || s == "-inf" || s == "-nan"; }

std::string render_json(const ResultSet& rs) {
    std::string out = "[";
    for (size_t r = 0; r < rs.rows.size(); ++r) {
        out += r ? ",\n {" : "\n {";
        for (size_t c = 0; c < rs.columns.size(); ++c) {
            out += (c ? ", " : "") + json_escape(rs.columns[c]) + ": ";
            if (!rs.is_null.empty() && rs.is_null[r][c])
                out += "null";
            else if (!rs.is_number.empty() && rs.is_number[r][c] && !is_nonfinite_text(rs.rows[r][c]))
                out += rs.rows[r][c];
            else
                out += json_escape(rs.rows[r][c]);
        }
        out += "}";
    }
    return out + (rs.rows.empty() ? "]\n" : "\n]\n");
}

std::string render_markdown(const ResultSet& rs) {
    std::string out = "|";
    for (const auto& c : rs.columns)
        out += " " + c + " |";
    out += "\n|";
    for (size_t c = 0; c < rs.columns.size(); ++c)
        out += " --- |";
    out += "\n";
    for (size_t r = 0; r < rs.rows.size(); ++r) {
        out += "|";
        for (size_t c = 0; c < rs.columns.size(); ++c) {
            std::string v = cell(rs, r, c, Format::Markdown);
            std::replace(v.begin(), v.end(), '|', '/');
            std::replace(v.begin(), v.end(), '\n', ' ');
            out += " " + v + " |";
        }
        out += "\n";
    }
    return out;
}

std::string render_table(const ResultSet& rs) {
    constexpr size_t kMaxCell = 60;
    std::vector<size_t> w(rs.columns.size());
    for (size_t c = 0; c < rs.columns.size(); ++c)
        w[c] = width(rs.columns[c]);
    for (size_t r = 0; r < rs.rows.size(); ++r)
        for (size_t c = 0; c < rs.columns.size(); ++c)
            w[c] = std::max(w[c], std::min<size_t>(kMaxCell, width(cell(rs, r, c, Format::Table))));
    auto line = [&](auto get) {
        std::string l;
        for (size_t c = 0; c < rs.columns.size(); ++c) {
            std::string v = get(c);
            std::replace(v.begin(), v.end(), '\n', ' ');
            bool last = c + 1 == rs.columns.size(); // the last column is never cut: errors live there
            if (!last && width(v) > kMaxCell) v = v.substr(0, kMaxCell - 3) + "...";
            l += (c ? "  " : "") + v + (last ? "" : std::string(w[c] - std::min(w[c], width(v)), ' '));
        }
        while (!l.empty() && l.back() == ' ')
            l.pop_back();
        return l + "\n";
    };
    std::string out = line([&](size_t c) { return rs.columns[c]; });
    out += line([&](size_t c) { return std::string(w[c], '-'); });
    for (size_t r = 0; r < rs.rows.size(); ++r)
        out += line([&](size_t c) { return cell(rs, r, c, Format::Table); });
    return out + "(" + std::to_string(rs.rows.size()) + (rs.rows.size() == 1 ? " row)\n" : " rows)\n");
}

} // namespace

std::string render(const ResultSet& rs, Format f) {
    switch (f) {
    case Format::Csv:
        return render_csv(rs);
    case Format::Json:
        return render_json(rs);
    case Format::Markdown:
        return render_markdown(rs);
    case Format::Table:
        return render_table(rs);
    }
    return "";
}

Format parse_format(const std::string& name) {
    if (name == "table") return Format::Table;
    if (name == "csv") return Format::Csv;
    if (name == "json") return Format::Json;
    if (name == "markdown" || name == "md") return Format::Markdown;
    throw UserError("unknown --format '" + name + "' (table, csv, json, markdown)");
}

} // namespace iclr
