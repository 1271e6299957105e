// [[claim]] tables: each checked for its kind's required keys, every problem with its position.
#include <set>

#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

const std::set<std::string> kKinds{"less", "greater", "increasing", "decreasing", "about", "at_most", "at_least"};

std::optional<std::string> text(ParseContext& ctx, const toml::node& v, const std::string& key) {
    if (auto s = v.as_string()) return s->get();
    ctx.err(v, "claim." + key + " must be a string");
    return std::nullopt;
}

std::optional<double> number(ParseContext& ctx, const toml::node& v, const std::string& key) {
    if (auto i = v.as_integer()) return double(i->get());
    if (auto f = v.as_floating_point()) return f->get();
    ctx.err(v, "claim." + key + " must be a number");
    return std::nullopt;
}

void read_key(ParseContext& ctx, const std::string& key, const toml::node& v, ClaimSpec& c) {
    std::string* field = key == "name"     ? &c.name
                         : key == "source" ? &c.source
                         : key == "kind"   ? &c.kind
                         : key == "sql"    ? &c.sql
                         : key == "a"      ? &c.a
                         : key == "b"      ? &c.b
                                           : nullptr;
    std::optional<double>* num = key == "tolerance"   ? &c.tolerance
                                 : key == "threshold" ? &c.threshold
                                 : key == "target"    ? &c.target
                                                      : nullptr;
    if (field) {
        if (auto s = text(ctx, v, key)) *field = *s;
        if (key == "sql") c.sql_pos = ctx.pos(v);
    } else if (num) {
        *num = number(ctx, v, key);
    } else {
        ctx.err(v,
                "unknown key claim." + key + " (known: name, source, kind, sql, a, b, tolerance, threshold, target)");
    }
}

// What each kind needs beyond name, kind and sql.
void check_kind(ParseContext& ctx, const toml::node& node, const ClaimSpec& c) {
    std::string what = "claim '" + c.name + "'";
    if (!kKinds.count(c.kind)) {
        ctx.err(node, what + ": unknown kind '" + c.kind +
                          "' (less, greater, increasing, decreasing, about, at_most, at_least)");
        return;
    }
    bool groups = !c.a.empty() && !c.b.empty();
    if ((c.kind == "less" || c.kind == "greater") && !groups)
        ctx.err(node, what + ": kind " + c.kind + " compares two groups: give a = \"...\" and b = \"...\"");
    if ((c.kind == "at_most" || c.kind == "at_least") && !c.threshold)
        ctx.err(node, what + ": kind " + c.kind + " needs threshold = <number>");
    if (c.kind == "about" && !c.tolerance)
        ctx.err(node, what + ": kind about needs tolerance = <number> (how close counts as the same)");
    if (c.kind == "about" && !groups && !c.target)
        ctx.err(node, what + ": kind about compares a with b, or the mean with target = <number>");
    if (c.tolerance && *c.tolerance < 0) ctx.err(node, what + ": tolerance must be >= 0");
}

} // namespace

std::vector<ClaimSpec> parse_claims(ParseContext& ctx, const toml::node& node) {
    std::vector<ClaimSpec> out;
    const toml::array* arr = node.as_array();
    if (!arr) {
        ctx.err(node, "claims are written as [[claim]] tables");
        return out;
    }
    std::set<std::string> names;
    for (const auto& e : *arr) {
        const toml::table* t = e.as_table();
        if (!t) {
            ctx.err(e, "claims are written as [[claim]] tables");
            continue;
        }
        ClaimSpec c;
        c.pos = ctx.pos(e);
        for (auto&& [k, v] : *t)
            read_key(ctx, std::string(k.str()), v, c);
        if (c.name.empty()) ctx.err(e, "a claim needs name = \"...\"");
        if (c.sql.empty()) ctx.err(e, "claim '" + c.name + "' needs sql = \"SELECT ...\"");
        if (c.kind.empty())
            ctx.err(e, "claim '" + c.name + "' needs kind = \"...\"");
        else
            check_kind(ctx, e, c);
        if (!c.name.empty() && !names.insert(c.name).second) ctx.err(e, "claim '" + c.name + "' is stated twice");
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace iclr
