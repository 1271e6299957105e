// [[plot]] tables: the figures `iclr report` draws, each checked here with its position.
#include <set>

#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

const std::set<std::string> kMarks{"line", "point", "bar", "heatmap"};

void read_key(ParseContext& ctx, const std::string& key, const toml::node& v, PlotSpec& p) {
    std::string* field = key == "title"   ? &p.title
                         : key == "sql"   ? &p.sql
                         : key == "x"     ? &p.x
                         : key == "y"     ? &p.y
                         : key == "color" ? &p.color
                         : key == "facet" ? &p.facet
                         : key == "mark"  ? &p.mark
                                          : nullptr;
    bool* flag = key == "error_bars" ? &p.error_bars : key == "x_log" ? &p.x_log : key == "y_log" ? &p.y_log : nullptr;
    if (field) {
        if (auto s = v.as_string())
            *field = s->get();
        else
            ctx.err(v, "plot." + key + " must be a string");
        if (key == "sql") p.sql_pos = ctx.pos(v);
    } else if (flag) {
        if (auto b = v.as_boolean())
            *flag = b->get();
        else
            ctx.err(v, "plot." + key + " must be true or false");
    } else {
        ctx.err(v,
                "unknown key plot." + key + " (known: title, sql, x, y, color, facet, mark, error_bars, x_log, y_log)");
    }
}

} // namespace

std::vector<PlotSpec> parse_plots(ParseContext& ctx, const toml::node& node) {
    std::vector<PlotSpec> out;
    const toml::array* arr = node.as_array();
    if (!arr) {
        ctx.err(node, "plots are written as [[plot]] tables");
        return out;
    }
    std::set<std::string> titles;
    for (const auto& e : *arr) {
        const toml::table* t = e.as_table();
        if (!t) {
            ctx.err(e, "plots are written as [[plot]] tables");
            continue;
        }
        PlotSpec p;
        p.pos = ctx.pos(e);
        for (auto&& [k, v] : *t)
            read_key(ctx, std::string(k.str()), v, p);
        if (p.title.empty()) ctx.err(e, "a plot needs title = \"...\"");
        if (p.sql.empty()) ctx.err(e, "plot '" + p.title + "' needs sql = \"SELECT ...\"");
        if (p.x.empty() || p.y.empty())
            ctx.err(e, "plot '" + p.title + "' needs x = \"column\" and y = \"column\" (columns of its query)");
        if (!kMarks.count(p.mark))
            ctx.err(e, "plot '" + p.title + "': unknown mark '" + p.mark + "' (line, point, bar, heatmap)");
        if (p.mark == "heatmap" && p.color.empty())
            ctx.err(e, "plot '" + p.title + "': a heatmap needs color = \"column\" (the value of each x, y cell)");
        if (!p.title.empty() && !titles.insert(p.title).second) ctx.err(e, "plot '" + p.title + "' is declared twice");
        out.push_back(std::move(p));
    }
    return out;
}

} // namespace iclr
