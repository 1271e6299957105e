// Builds each figure's Vega-Lite spec as JSON text, with its (aggregated) data inlined.
#include "report/figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include "common/values.hpp"
#include "store/sql_stats.hpp"

namespace iclr::report {
namespace {

int col(const ResultSet& rs, const std::string& name) {
    for (size_t c = 0; c < rs.columns.size(); ++c)
        if (rs.columns[c] == name) return int(c);
    return -1;
}

std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

// A column is plotted on a numeric axis when every non-NULL cell of it is a number.
bool numeric(const ResultSet& rs, int c) {
    if (c < 0) return false;
    for (size_t r = 0; r < rs.rows.size(); ++r)
        if (!rs.is_null[r][size_t(c)] && !rs.is_number[r][size_t(c)]) return false;
    return true;
}

void push(ResultSet& rs, std::vector<std::string> cells, std::vector<bool> nulls, std::vector<bool> numbers) {
    rs.rows.push_back(std::move(cells));
    rs.is_null.push_back(std::move(nulls));
    rs.is_number.push_back(std::move(numbers));
}

// The finite numbers in columns `cols` of rs.
std::vector<double> numbers(const ResultSet& rs, std::initializer_list<int> cols) {
    std::vector<double> out;
    for (size_t r = 0; r < rs.rows.size(); ++r)
        for (int c : cols)
            if (c >= 0 && !rs.is_null[r][size_t(c)] && rs.is_number[r][size_t(c)])
                if (double v = std::strtod(rs.rows[r][size_t(c)].c_str(), nullptr); std::isfinite(v)) out.push_back(v);
    return out;
}

// A scale's domain around the values when they are all one number, or nearly (a ci profile's one
// width, one seed, the first run of a sweep; a mean differing from its one value in the last bits):
// Vega-Lite gives such a scale a domain of (next to) no width, labels its ticks with float noise
// (0.020000000000000014) and can draw the point outside the plot. "" when the values have an
// extent (or there are none), which Vega-Lite then chooses.
std::string flat_domain(const std::vector<double>& values, bool log) {
    if (values.empty()) return "";
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    const double mid = (*lo + *hi) / 2;
    // Relative, with a floor: 0 and 1e-17 (a sum that should have been 0) are one number too.
    if (*hi - *lo > 1e-9 * std::max({std::fabs(*lo), std::fabs(*hi), 1e-6})) return "";
    if (log) return mid > 0 ? ", \"domain\": [" + num(mid / 2) + ", " + num(mid * 2) + "]" : "";
    double pad = std::fabs(mid) >= 1e-12 ? std::fabs(mid) / 10 : 1;
    return ", \"domain\": [" + num(mid - pad) + ", " + num(mid + pad) + "]";
}

// `domain`: flat_domain()'s, for a quantitative axis (then with few ticks).
std::string axis(const std::string& field, const std::string& title, bool quantitative, bool log,
                 const std::string& domain = "") {
    std::string s = "{\"field\": " + json_escape(field) + ", \"type\": \"" +
                    (quantitative ? "quantitative" : "nominal") + "\", \"title\": " + json_escape(title);
    if (log)
        s += ", \"scale\": {\"type\": \"log\"" + domain + "}";
    else if (quantitative)
        s += ", \"scale\": {\"zero\": false" + domain + "}";
    // Vega-Lite ticks a made-up domain as densely as a real one: on x, 24,000 to 28,500 in steps of
    // 500 ran its labels together. A few ticks say as much about one value.
    if (!domain.empty()) s += ", \"axis\": {\"tickCount\": 4}";
    return s + "}";
}

std::string tooltip(std::initializer_list<const char*> fields) {
    std::string s = "[";
    for (const char* f : fields)
        s += std::string(s.size() > 1 ? ", " : "") + "{\"field\": \"" + f + "\"}";
    return s + "]";
}

// A layered chart (or one facet of it per value of `facet`), zoomable by dragging and the wheel.
std::string chart(const std::string& title, const std::string& data, const std::vector<std::string>& layers,
                  bool faceted) {
    std::string layer = "[";
    for (size_t i = 0; i < layers.size(); ++i)
        layer += (i ? ", " : "") + layers[i];
    layer += "]";
    std::string inner = "\"width\": 380, \"height\": 240, \"layer\": " + layer;
    std::string out = "{\"title\": " + json_escape(title) + ", \"data\": {\"values\": " + data + "}, ";
    if (faceted)
        return out + "\"facet\": {\"column\": {\"field\": \"facet\", \"type\": \"nominal\"}}, \"spec\": {" + inner +
               "}}";
    return out + inner + "}";
}

} // namespace

ResultSet aggregate(const ResultSet& rows, const std::string& x, const std::string& y, const std::string& color,
                    const std::string& facet) {
    int cx = col(rows, x), cy = col(rows, y), cc = color.empty() ? -1 : col(rows, color),
        cf = facet.empty() ? -1 : col(rows, facet);
    struct Acc {
        std::string x, color, facet;
        bool x_number = false;
        std::vector<double> ys;
    };
    std::vector<Acc> groups;
    std::map<std::string, size_t> index;
    for (size_t r = 0; r < rows.rows.size(); ++r) {
        if (cy < 0 || rows.is_null[r][size_t(cy)] || !rows.is_number[r][size_t(cy)]) continue;
        auto cell = [&](int c) {
            return c < 0 || rows.is_null[r][size_t(c)] ? std::string() : rows.rows[r][size_t(c)];
        };
        std::string key = cell(cx) + '\x1f' + cell(cc) + '\x1f' + cell(cf);
        auto [it, fresh] = index.emplace(key, groups.size());
        if (fresh) groups.push_back({cell(cx), cell(cc), cell(cf), cx >= 0 && rows.is_number[r][size_t(cx)], {}});
        groups[it->second].ys.push_back(std::strtod(rows.rows[r][size_t(cy)].c_str(), nullptr));
    }
    ResultSet out = aggregated();
    for (const auto& g : groups)
        add_point(out, g.x, g.x_number, g.color, g.facet, double(g.ys.size()), stats::mean(g.ys),
                  g.ys.size() > 1 ? stats::variance(g.ys) : 0.0);
    return out;
}

ResultSet aggregated() {
    ResultSet out;
    out.columns = {"x", "color", "facet", "mean", "lo", "hi", "n"};
    return out;
}

void add_point(ResultSet& agg, const std::string& x, bool x_number, const std::string& color, const std::string& facet,
               double n, double mean, double var) {
    double half = n > 1 ? stats::student_t_quantile(0.975, n - 1) * std::sqrt(var / n) : 0.0;
    push(agg, {x, color, facet, num(mean), num(mean - half), num(mean + half), num(n)},
         {false, false, false, false, false, false, false}, {x_number, false, false, true, true, true, true});
}

namespace {

struct Encodings {
    std::string x, color, zoom, mark;
    bool quantitative_x;
};

// Bars of several colours at one x stand side by side (Vega-Lite stacks them otherwise, which
// reads as a sum); their error bars take the same offset.
std::string with_offset(const PlotSpec& p, std::string x) {
    if (p.mark == "bar" && !p.color.empty()) x += ", \"xOffset\": {\"field\": \"color\"}";
    return x;
}

// `data`: the points drawn, x in its first column.
Encodings encodings(const PlotSpec& p, const ResultSet& data) {
    Encodings e;
    e.quantitative_x = numeric(data, 0) && p.mark != "bar";
    e.color =
        p.color.empty()
            ? ""
            : ", \"color\": {\"field\": \"color\", \"type\": \"nominal\", \"title\": " + json_escape(p.color) + "}";
    e.x = with_offset(p, "\"x\": " + axis("x", p.x, e.quantitative_x, p.x_log,
                                          e.quantitative_x ? flat_domain(numbers(data, {0}), p.x_log) : ""));
    e.zoom =
        e.quantitative_x ? ", \"params\": [{\"name\": \"zoom\", \"select\": \"interval\", \"bind\": \"scales\"}]" : "";
    e.mark = p.mark == "line" ? "{\"type\": \"line\", \"point\": true, \"tooltip\": true}"
                              : "{\"type\": \"" + p.mark + "\", \"tooltip\": true}";
    return e;
}

} // namespace

Figure aggregated_figure(const PlotSpec& p, const ResultSet& agg) {
    Encodings e = encodings(p, agg);
    const std::string y = flat_domain(numbers(agg, {3, 4, 5}), p.y_log); // mean, lo, hi
    std::vector<std::string> layers{
        "{\"mark\": " + e.mark + ", \"encoding\": {" + e.x + ", \"y\": " + axis("mean", p.y, true, p.y_log, y) +
            e.color + ", \"tooltip\": " + tooltip({"x", "color", "mean", "lo", "hi", "n"}) + "}" + e.zoom + "}",
        "{\"mark\": \"errorbar\", \"encoding\": {" + e.x + ", \"y\": " + axis("lo", p.y, true, p.y_log, y) +
            ", \"y2\": {\"field\": \"hi\"}" + e.color + "}}"};
    Figure f;
    f.title = p.title;
    f.caption =
        "mean and 95% interval over the rows that share x" + std::string(p.color.empty() ? "" : " and " + p.color);
    f.points = int64_t(agg.rows.size());
    f.spec_json = chart(p.title, json_rows(agg), layers, !p.facet.empty());
    return f;
}

namespace {

// Cells (x, y) coloured by the mean of the `color` column over the rows that share them, with the
// value written in each cell: aggregate() keyed on (x, y) with y in its colour slot.
Figure heatmap_figure(const PlotSpec& p, const ResultSet& rows) {
    ResultSet cells = aggregate(rows, p.x, p.color, p.y, p.facet);
    auto ordinal = [](const char* field, const std::string& title) {
        return "{\"field\": \"" + std::string(field) + "\", \"type\": \"ordinal\", \"title\": " + json_escape(title) +
               "}";
    };
    std::string xy = "\"x\": " + ordinal("x", p.x) + ", \"y\": " + ordinal("color", p.y);
    std::vector<std::string> layers{
        "{\"mark\": {\"type\": \"rect\", \"tooltip\": true}, \"encoding\": {" + xy +
            ", \"color\": {\"field\": \"mean\", \"type\": \"quantitative\", \"title\": " + json_escape(p.color) +
            "}, \"tooltip\": " + tooltip({"x", "color", "mean", "n"}) + "}}",
        "{\"mark\": {\"type\": \"text\", \"fontSize\": 10}, \"encoding\": {" + xy +
            ", \"text\": {\"field\": \"mean\", \"type\": \"quantitative\", \"format\": \".3f\"}}}"};
    Figure f;
    f.title = p.title;
    f.caption = "each cell: the mean of " + p.color + " over the rows that share " + p.x + " and " + p.y;
    f.points = int64_t(cells.rows.size());
    f.spec_json = chart(p.title, json_rows(cells), layers, !p.facet.empty());
    return f;
}

} // namespace

Figure plot_figure(const PlotSpec& p, const ResultSet& rows) {
    if (p.mark == "heatmap") return heatmap_figure(p, rows);
    if (p.error_bars) return aggregated_figure(p, aggregate(rows, p.x, p.y, p.color, p.facet));
    // Every row: the chosen columns renamed so that one spec shape fits every query.
    ResultSet data;
    data.columns = {"x", "color", "facet", "mean"};
    int cx = col(rows, p.x), cy = col(rows, p.y), cc = col(rows, p.color), cf = col(rows, p.facet);
    for (size_t r = 0; r < rows.rows.size(); ++r) {
        auto cell = [&](int c) { return c < 0 ? std::string() : rows.rows[r][size_t(c)]; };
        auto null = [&](int c) { return c < 0 || rows.is_null[r][size_t(c)]; };
        auto number = [&](int c) { return c >= 0 && rows.is_number[r][size_t(c)]; };
        push(data, {cell(cx), cell(cc), cell(cf), cell(cy)}, {null(cx), null(cc), null(cf), null(cy)},
             {number(cx), number(cc), number(cf), number(cy)});
    }
    Encodings e = encodings(p, data);
    Figure f;
    f.title = p.title;
    f.caption = "every row of the query";
    f.points = int64_t(data.rows.size());
    f.spec_json = chart(p.title, json_rows(data),
                        {"{\"mark\": " + e.mark + ", \"encoding\": {" + e.x +
                         ", \"y\": " + axis("mean", p.y, true, p.y_log, flat_domain(numbers(data, {3}), p.y_log)) +
                         e.color + "}" + e.zoom + "}"},
                        !p.facet.empty());
    return f;
}

namespace {

// A claim's rows as points (x, seed, value): x is the group (a / b), or the claim's x (a number, in
// a trend), or "all" for the one-sample kinds; rows of groups the claim does not compare are left out.
ResultSet claim_points(const ClaimSpec& c, const ResultSet& rows, bool trend) {
    int cg = col(rows, "grp") >= 0 ? col(rows, "grp") : col(rows, "arm"), cx = col(rows, "x"), cv = col(rows, "value"),
        cs = col(rows, "seed");
    int xcol = trend ? cx : cg;
    ResultSet points;
    points.columns = {"x", "seed", "value"};
    for (size_t r = 0; r < rows.rows.size(); ++r) {
        if (cv < 0 || rows.is_null[r][size_t(cv)]) continue;
        if (!trend && !c.a.empty() &&
            (xcol < 0 || (rows.rows[r][size_t(xcol)] != c.a && rows.rows[r][size_t(xcol)] != c.b)))
            continue; // only the two groups the claim compares
        std::string x = xcol >= 0 && !rows.is_null[r][size_t(xcol)] ? rows.rows[r][size_t(xcol)] : "all";
        push(points, {x, cs >= 0 ? rows.rows[r][size_t(cs)] : "", rows.rows[r][size_t(cv)]}, {false, cs < 0, false},
             {trend, false, true});
    }
    return points;
}

} // namespace

Figure claim_figure(const ClaimSpec& c, const ResultSet& rows, const std::string& caption) {
    const bool trend = c.kind == "increasing" || c.kind == "decreasing";
    ResultSet points = claim_points(c, rows, trend);
    ResultSet means = aggregate(points, "x", "value", "", "");
    std::optional<double> rule = c.threshold; // a rule at the threshold, or at an about claim's target
    if (!rule && c.kind == "about" && c.a.empty()) rule = c.target;
    // A trend over x that spans two orders of magnitude or more (parameter counts): a log axis.
    std::vector<double> xs = numbers(points, {0}), ys = numbers(points, {2}); // x is a number in a trend
    auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
    const bool x_log = !xs.empty() && *lo > 0 && *hi >= 100 * *lo;
    for (double v : numbers(means, {3, 4, 5})) // mean, lo, hi
        ys.push_back(v);
    if (rule) ys.push_back(*rule);
    const std::string xq = axis("x", trend ? "x" : "group", trend, x_log, flat_domain(xs, x_log)),
                      y = flat_domain(ys, false);
    std::vector<std::string> layers{
        "{\"data\": {\"values\": " + json_rows(points) +
            "}, \"mark\": {\"type\": \"point\", \"filled\": true, \"opacity\": "
            "0.7, \"tooltip\": true}, \"encoding\": {\"x\": " +
            xq + ", \"y\": " + axis("value", "value", true, false, y) +
            ", \"color\": {\"field\": \"seed\", \"type\": \"nominal\"}}}",
        "{\"mark\": {\"type\": \"" + std::string(trend ? "line" : "tick") +
            "\", \"color\": \"black\"}, \"encoding\": "
            "{\"x\": " +
            xq + ", \"y\": " + axis("mean", "value", true, false, y) + "}}",
        "{\"mark\": {\"type\": \"errorbar\", \"color\": \"black\"}, \"encoding\": {\"x\": " + xq +
            ", \"y\": " + axis("lo", "value", true, false, y) + ", \"y2\": {\"field\": \"hi\"}}}"};
    if (rule)
        layers.push_back(
            "{\"data\": {\"values\": [{\"at\": " + num(*rule) +
            "}]}, \"mark\": {\"type\": \"rule\", "
            "\"strokeDash\": [4, 4]}, \"encoding\": {\"y\": {\"field\": \"at\", \"type\": \"quantitative\"}}}");
    Figure f;
    f.title = c.name;
    f.caption = caption;
    f.points = int64_t(points.rows.size());
    f.spec_json = chart(c.name, json_rows(means), layers, false);
    return f;
}

std::string json_rows(const ResultSet& rs) {
    std::string out = "[";
    for (size_t r = 0; r < rs.rows.size(); ++r) {
        out += r ? ", {" : "{";
        for (size_t c = 0; c < rs.columns.size(); ++c) {
            out += (c ? ", " : "") + json_escape(rs.columns[c]) + ": ";
            const std::string& v = rs.rows[r][c];
            bool finite_number = rs.is_number[r][c] && std::isfinite(std::strtod(v.c_str(), nullptr));
            out += rs.is_null[r][c] ? "null" : finite_number ? v : json_escape(v);
        }
        out += "}";
    }
    return out + "]";
}

} // namespace iclr::report
