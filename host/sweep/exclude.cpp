// Exclude rules: parsing `exclude = [...]` (labels must name swept parameters) and matching.
#include "sweep/exclude.hpp"

#include <algorithm>
#include <set>

#include "common/values.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {
bool is_comparison_op(const std::string& op) {
    static const std::set<std::string> ops{"eq", "ne", "lt", "le", "gt", "ge", "in"};
    return ops.count(op) > 0;
}

bool exclude_matches(const Value& a, const std::string& op, const Value& b) {
    if (op == "eq")
        return a == b ||
               (a.type != Value::Type::List && b.type != Value::Type::List && a.type != Value::Type::String &&
                b.type != Value::Type::String && a.type != Value::Type::Bool && a.as_number() == b.as_number());
    if (op == "ne") return !exclude_matches(a, "eq", b);
    if (op == "in") {
        for (const auto& e : b.list)
            if (exclude_matches(a, "eq", e)) return true;
        return false;
    }
    bool numeric = (a.type == Value::Type::Int || a.type == Value::Type::Float) &&
                   (b.type == Value::Type::Int || b.type == Value::Type::Float);
    if (!numeric) return false;
    double x = a.as_number(), y = b.as_number();
    if (op == "lt") return x < y;
    if (op == "le") return x <= y;
    if (op == "gt") return x > y;
    if (op == "ge") return x >= y;
    return false;
}

namespace {

// One `"section.key" = value` or `"section.key" = { op = value }` of a rule.
std::optional<ExcludeRule::Cond> parse_condition(ParseContext& ctx, const std::string& label, const toml::node& v) {
    ExcludeRule::Cond c;
    c.label = label;
    const toml::node* value_node = &v;
    c.op = "eq";
    if (const toml::table* op = v.as_table()) {
        if (op->size() != 1) {
            ctx.err(v, "exclude: use one operator per key, e.g. { gt = 0.1 }");
            return std::nullopt;
        }
        c.op = std::string(op->cbegin()->first.str());
        value_node = &op->cbegin()->second;
        if (!is_comparison_op(c.op)) {
            ctx.err(*value_node, "exclude: unknown operator '" + c.op + "' (eq ne lt le gt ge in)");
            return std::nullopt;
        }
    }
    auto val = value_from_toml(*value_node);
    if (!val) {
        ctx.err(*value_node, "exclude: unsupported value");
        return std::nullopt;
    }
    if (c.op == "in" && val->type != Value::Type::List) {
        ctx.err(*value_node, "exclude: 'in' takes a list");
        return std::nullopt;
    }
    c.value = *val;
    return c;
}

} // namespace

std::vector<ExcludeRule> parse_excludes(ParseContext& ctx, const toml::array& arr, const std::vector<Axis>& axes) {
    std::vector<ExcludeRule> rules;
    for (const auto& rule_node : arr) {
        const toml::table* t = rule_node.as_table();
        if (!t || t->empty()) {
            ctx.err(rule_node, "exclude entries must be non-empty tables of \"section.key\" = value");
            continue;
        }
        ExcludeRule rule;
        rule.pos = ctx.pos(rule_node);
        for (auto&& [k, v] : *t) {
            std::string label(k.str());
            bool known = std::any_of(axes.begin(), axes.end(), [&](const Axis& a) { return a.label == label; });
            if (!known)
                ctx.err(v, "exclude: '" + label + "' is not a swept parameter");
            else if (auto c = parse_condition(ctx, label, v))
                rule.conds.push_back(std::move(*c));
        }
        if (!rule.conds.empty()) rules.push_back(std::move(rule));
    }
    return rules;
}

} // namespace iclr
