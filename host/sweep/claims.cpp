// [[claim]] tables: each checked for its kind's required keys, every problem with its position.
#include <algorithm>
#include <set>

#include "common/values.hpp"
#include "sweep/exclude.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

const std::set<std::string> kKinds{"less", "greater", "increasing", "decreasing", "about", "at_most", "at_least"};
const char* kKnownKeys =
    "name, source, kind, sql, metric, task, where, group, x, a, b, tolerance, threshold, target, binary";

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

// `key = { at = "max" }`: the runs at the parameter's largest (or smallest) value in the sweep.
std::optional<ClaimFilter> read_at(ParseContext& ctx, ClaimFilter f, const toml::node& value) {
    auto s = value.as_string();
    if (!s || (s->get() != "max" && s->get() != "min")) {
        ctx.err(value, "claim.where." + f.key +
                           ": at takes \"max\" or \"min\" (the parameter's largest or "
                           "smallest value among the sweep's trials)");
        return std::nullopt;
    }
    f.values = {Value::of_string(s->get())};
    return f;
}

// `key = { argmax = "avg_accuracy" }`: in each cell of the sweep, the runs at the key's value whose
// mean of that final metric is highest (argmin: lowest), i.e. each arm at its own tuned value;
// `seeds = [0, 1, 2]` beside it ranks on those seeds' runs alone and measures on the others.
std::optional<ClaimFilter> read_tuned(ParseContext& ctx, ClaimFilter f, const toml::table& t) {
    const toml::node* metric = t.get(f.op);
    auto s = metric->as_string();
    if (!s || s->get().empty()) {
        ctx.err(*metric, "claim.where." + f.key + ": " + f.op +
                             " takes a final metric's key, e.g. { argmax = \"avg_accuracy\" } (the value whose runs "
                             "have the " +
                             (f.op == "argmax" ? "highest" : "lowest") + " mean of it)");
        return std::nullopt;
    }
    f.values = {Value::of_string(s->get())};
    for (auto&& [k, v] : t) {
        if (k.str() == f.op) continue;
        const toml::array* seeds = k.str() == "seeds" ? v.as_array() : nullptr;
        bool ok = seeds && !seeds->empty();
        for (size_t i = 0; ok && i < seeds->size(); ++i)
            ok = (*seeds)[i].is_integer();
        if (!ok) {
            ctx.err(v, "claim.where." + f.key + ": beside " + f.op +
                           " only seeds = [0, 1, ...] (the seeds whose runs "
                           "choose the value; the claim measures the others)");
            return std::nullopt;
        }
        for (const auto& seed : *seeds)
            f.tune_seeds.push_back(seed.as_integer()->get());
    }
    return f;
}

// One where condition: `key = value`, `key = [any, of, these]` or `key = { op = value }`.
std::optional<ClaimFilter> read_filter(ParseContext& ctx, const std::string& key, const toml::node& v) {
    ClaimFilter f{key, "eq", {}, ctx.pos(v), {}};
    const toml::node* value = &v;
    if (const toml::table* t = v.as_table()) {
        if (t->contains("argmax") != t->contains("argmin")) { // one of them, maybe with seeds beside it
            f.op = t->contains("argmax") ? "argmax" : "argmin";
            return read_tuned(ctx, f, *t);
        }
        f.op = t->size() == 1 ? std::string(t->cbegin()->first.str()) : "";
        if (f.op == "at") return read_at(ctx, f, t->cbegin()->second);
        if (!is_comparison_op(f.op)) {
            ctx.err(v, "claim.where." + key +
                           ": one operator, e.g. { gt = 0.1 } (eq ne lt le gt ge in; at = \"max\" or \"min\"; "
                           "argmax or argmin = \"a metric\")");
            return std::nullopt;
        }
        value = &t->cbegin()->second;
    }
    std::optional<Value> got = value->is_table() ? std::nullopt : value_from_toml(*value);
    bool list = got && got->type == Value::Type::List, ok = got && (!list || !got->list.empty());
    for (size_t i = 0; ok && list && i < got->list.size(); ++i)
        ok = got->list[i].type != Value::Type::List;
    if (!ok) {
        ctx.err(*value, "claim.where." + key + " must be a string, number or bool, or a non-empty array of them");
        return std::nullopt;
    }
    if (list && f.op == "eq") f.op = "in"; // an array means any of its values
    bool numeric = !list && (got->type == Value::Type::Int || got->type == Value::Type::Float);
    if ((f.op == "in") != list || (f.op != "eq" && f.op != "ne" && f.op != "in" && !numeric)) {
        ctx.err(*value, "claim.where." + key + ": " + f.op + " takes " + (f.op == "in" ? "an array" : "a number"));
        return std::nullopt;
    }
    f.values = list ? got->list : std::vector<Value>{*got};
    return f;
}

// where = { "method.lr" = 0.1, arm = ["ft", "lp"], "model.width" = { ge = 256 } }
void read_where(ParseContext& ctx, const toml::node& v, ClaimSpec& c) {
    const toml::table* t = v.as_table();
    if (!t) {
        ctx.err(v, "claim.where must be a table: where = { \"method.lr\" = 0.1, arm = \"ft\" }");
        return;
    }
    for (auto&& [k, value] : *t)
        if (auto f = read_filter(ctx, std::string(k.str()), value)) c.where.push_back(std::move(*f));
    // A TOML table iterates in key order; the query reads better in the order the file wrote it.
    std::sort(c.where.begin(), c.where.end(), [](const ClaimFilter& x, const ClaimFilter& y) { return x.pos < y.pos; });
    // Several tuned keys are tuned together (the best pair of lr and momentum), so by one ranking.
    const ClaimFilter* first = nullptr;
    for (const ClaimFilter& f : c.where) {
        if (!f.is_tuned()) continue;
        if (!first)
            first = &f;
        else if (f.op != first->op || f.values != first->values || f.tune_seeds != first->tune_seeds)
            ctx.err(f.pos, "claim.where." + f.key + ": tuned together with " + first->key + ", so by the same " +
                               first->op + " = \"" + first->values.at(0).s +
                               "\" and seeds (one ranking picks the values of both)");
    }
}

// x = "model.width" (a parameter), "param_count" (a run attribute) or { metric = "arc" } (another
// final metric of the run: a trend between two measurements, not along a setting).
void read_x(ParseContext& ctx, const toml::node& v, ClaimSpec& c) {
    c.x_pos = ctx.pos(v);
    const toml::table* t = v.as_table();
    if (!t) {
        if (auto s = text(ctx, v, "x")) c.x = *s;
        return;
    }
    auto m = t->get("metric");
    if (t->size() != 1 || !m || !m->as_string() || m->as_string()->get().empty()) {
        ctx.err(v, "claim.x must be a parameter (\"model.width\"), a run attribute (\"param_count\") or "
                   "{ metric = \"...\" } (a final metric's key)");
        return;
    }
    c.x = m->as_string()->get();
    c.x_is_metric = true;
}

void read_key(ParseContext& ctx, const std::string& key, const toml::node& v, ClaimSpec& c) {
    std::string* field = key == "name"     ? &c.name
                         : key == "source" ? &c.source
                         : key == "kind"   ? &c.kind
                         : key == "sql"    ? &c.sql
                         : key == "metric" ? &c.metric
                         : key == "group"  ? &c.group
                         : key == "a"      ? &c.a
                         : key == "b"      ? &c.b
                                           : nullptr;
    std::optional<double>* num = key == "tolerance"   ? &c.tolerance
                                 : key == "threshold" ? &c.threshold
                                 : key == "target"    ? &c.target
                                                      : nullptr;
    if (field) {
        if (auto s = text(ctx, v, key)) *field = *s;
        if (key == "sql" || key == "metric") c.sql_pos = ctx.pos(v);
        if (key == "group") c.group_pos = ctx.pos(v);
    } else if (num) {
        *num = number(ctx, v, key);
    } else if (key == "task") {
        if (auto i = v.as_integer(); i && i->get() >= 0)
            c.task = i->get();
        else
            ctx.err(v, "claim.task must be an integer >= 0 (the task whose value counts)");
    } else if (key == "binary") {
        if (auto b = v.as_boolean())
            c.binary = b->get();
        else
            ctx.err(v, "claim.binary must be true or false (true: each run's value is 0 or 1, an event)");
    } else if (key == "where") {
        read_where(ctx, v, c);
    } else if (key == "x") {
        read_x(ctx, v, c);
    } else {
        ctx.err(v, "unknown key claim." + key + " (known: " + kKnownKeys + ")");
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
    if (c.binary && (c.kind == "increasing" || c.kind == "decreasing"))
        ctx.err(node, what + ": binary = true goes with a rate or a difference of rates (less, greater, about, "
                             "at_most, at_least), not a rank correlation");
}

// A claim is its SQL, or the keys that say which final metric of which runs (claim_sql.cpp).
void check_query(ParseContext& ctx, const toml::node& node, const ClaimSpec& c) {
    std::string what = "claim '" + c.name + "'";
    if (c.sql.empty() && !c.from_keys())
        ctx.err(node, what + " needs sql = \"SELECT ...\" or metric = \"...\" (a final metric's key)");
    if (!c.sql.empty() && !c.metric.empty())
        ctx.err(c.sql_pos, what + ": give sql or metric, not both (metric writes the query for you)");
    if (c.group_is_metric() && !c.metric.empty())
        ctx.err(c.group_pos, what + ": with group = \"metric\", a and b are the two final metrics compared; "
                                    "drop metric = \"...\"");
    if (!c.sql.empty() || !c.from_keys()) {
        if (!c.group.empty() || !c.x.empty() || c.task || !c.where.empty())
            ctx.err(node, what + ": group, x, task and where go with metric = \"...\"; a query written in sql "
                                 "selects its own rows");
        return;
    }
    bool trend = c.kind == "increasing" || c.kind == "decreasing";
    if (trend && c.x.empty() && c.x_pos.line <= 0) // a malformed x is reported where it is written
        ctx.err(node, what + ": kind " + c.kind +
                          " needs x = \"section.key\" (the parameter the trend runs "
                          "along), a run attribute (x = \"param_count\") or x = { metric = \"...\" }");
    if (!trend && !c.x.empty()) ctx.err(c.x_pos, what + ": x is for kinds increasing and decreasing");
    if (!c.group.empty() && c.a.empty())
        ctx.err(c.group_pos, what + ": group names the column a and b are values of; this claim has no a and b");
}

ClaimSpec read_claim(ParseContext& ctx, const toml::table& t, const toml::node& e) {
    ClaimSpec c;
    c.pos = ctx.pos(e);
    for (auto&& [k, v] : t)
        read_key(ctx, std::string(k.str()), v, c);
    if (c.name.empty()) ctx.err(e, "a claim needs name = \"...\"");
    check_query(ctx, e, c);
    if (c.kind.empty())
        ctx.err(e, "claim '" + c.name + "' needs kind = \"...\"");
    else
        check_kind(ctx, e, c);
    if (c.from_keys() && c.sql.empty()) {
        c.sql = claim_sql(c);
        if (c.metric.empty()) c.sql_pos = c.group_pos; // group = "metric": the keys that wrote it
    }
    return c;
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
        ClaimSpec c = read_claim(ctx, *t, e);
        if (!c.name.empty() && !names.insert(c.name).second) ctx.err(e, "claim '" + c.name + "' is stated twice");
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace iclr
