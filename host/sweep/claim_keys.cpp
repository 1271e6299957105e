// A claim's keys (where, group, x; a and b of an arm group) checked against the sweep's arms and
// its plugins' schemas: a misspelt parameter would select no rows, so it is an error before the
// sweep runs, not a "no data" verdict after it.
#include <map>
#include <set>

#include "common/values.hpp"
#include "sweep/validate.hpp"

namespace iclr {
namespace {

// What a claim can name: the arms, the plugins of each kind, each section's plugins that loaded.
struct Names {
    std::set<std::string> arms;
    std::map<std::string, std::set<std::string>> plugins;             // kind -> plugin names
    std::map<std::string, std::vector<const PluginRecord*>> sections; // label -> plugins (any arm)
    std::set<std::string> unchecked;                                  // labels with no loaded plugin
};

Names names_of(const std::vector<SweepSpec>& arms, const PluginRegistry& registry) {
    Names n;
    // Every plugin built, not only the sweep's: a profile may narrow a plugin axis (lump_table's ci
    // runs MNIST only), and a claim about the other data set then has no data rather than an error.
    for (const auto& r : registry.records())
        if (r.ok) n.plugins[kind_name(r.kind)].insert(r.name);
    for (const auto& spec : arms) {
        if (!spec.arm.empty()) n.arms.insert(spec.arm);
        for (const auto& sec : spec.sections) {
            const PluginRecord* p = registry.find(role_kind(sec.role), sec.plugin);
            if (p && p->ok)
                n.sections[sec.label].push_back(p);
            else
                n.unchecked.insert(sec.label); // unknown or broken: reported by the sweep's own checks
        }
    }
    return n;
}

std::string listed(const std::set<std::string>& s) {
    std::string out;
    for (const auto& e : s)
        out += (out.empty() ? "" : ", ") + e;
    return out.empty() ? "none" : out;
}

// A run column's value: an arm of the sweep, or a built plugin of that kind (dataset, model, method).
std::optional<std::string> check_run_column(const Names& n, const std::string& key, const std::string& value) {
    if (key == "arm") {
        if (n.arms.empty()) return std::string("the sweep has no [[arm]]s");
        if (!n.arms.count(value)) return "no arm '" + value + "' (arms: " + listed(n.arms) + ")";
        return std::nullopt;
    }
    auto it = n.plugins.find(key);
    if (it == n.plugins.end() || !it->second.count(value))
        return "no " + key + " plugin '" + value + "' (" + key +
               " plugins: " + listed(it == n.plugins.end() ? std::set<std::string>{} : it->second) + ")";
    return std::nullopt;
}

// "method.lr" to its schema in some arm's plugin; the problem in words when none declares it; a
// null schema and no problem when the section's plugins are not loaded (nothing to check against).
std::optional<std::string> find_param(const Names& n, const std::string& key, const ParamSchema*& schema) {
    schema = nullptr;
    size_t dot = key.rfind('.');
    std::string label = dot == std::string::npos ? key : key.substr(0, dot), name = key.substr(dot + 1);
    auto it = n.sections.find(label);
    if (dot == std::string::npos || (it == n.sections.end() && !n.unchecked.count(label))) {
        std::set<std::string> labels;
        for (const auto& [l, ps] : n.sections)
            labels.insert(l);
        return "no section '" + label +
               "' in the sweep, and not arm, dataset, model or method (sections: " + listed(labels) + ")";
    }
    if (it == n.sections.end()) return std::nullopt;
    for (const PluginRecord* p : it->second)
        if ((schema = p->param(name))) return std::nullopt;
    const PluginRecord& first = *it->second.front();
    return label + " '" + first.name + "' has no parameter '" + name + "'" + parameter_suggestion(name, first);
}

// a or b of a parameter group, written as text, read as the parameter's type: "64" for an int,
// "0.01" for a float, "true" for a bool (the query finds runs by that value, not by its spelling).
std::optional<std::string> check_group_value(const ParamSchema& s, const std::string& text) {
    std::optional<Value> v;
    if (s.type != ICLR_PARAM_STRING) v = value_from_literal(text);
    if (!v) v = Value::of_string(text);
    return check_value(s, *v);
}

// What a trend's x and a where's at = "max" need: a parameter whose values order as numbers.
bool numeric(const ParamSchema& s) { return s.type == ICLR_PARAM_INT || s.type == ICLR_PARAM_FLOAT; }

struct Checker {
    const Names& names;
    const ClaimSpec& claim;
    std::vector<Diagnostic>& diags;

    void fail(const SourcePos& at, const std::string& what) {
        diags.push_back({at, "claim '" + claim.name + "': " + what});
    }
    // A parameter key and, for where, its values against the parameter's type and range.
    const ParamSchema* param(const std::string& role, const std::string& key, const SourcePos& at) {
        const ParamSchema* s = nullptr;
        if (auto e = find_param(names, key, s)) fail(at, role + " " + key + ": " + *e);
        if (s && s->type == ICLR_PARAM_LIST) {
            fail(at, role + " " + key + ": a list parameter; compare lists in a query of your own (sql = \"...\")");
            return nullptr;
        }
        return s;
    }
    void where(const ClaimFilter& w) {
        if (w.op == "at") {
            const ParamSchema* s = is_claim_run_column(w.key) ? nullptr : param("where", w.key, w.pos);
            if (is_claim_run_column(w.key) || (s && !numeric(*s)))
                fail(w.pos, "where " + w.key + ": at = \"" + w.values.at(0).s + "\" needs a number parameter");
            return;
        }
        if (w.is_tuned()) { // any parameter's values can be ranked; a run column is the comparison's own
            if (is_claim_run_column(w.key))
                fail(w.pos, "where " + w.key + ": " + w.op + " tunes a parameter (\"method.lr\"), not the " + w.key +
                                " a claim compares or keeps");
            else
                param("where", w.key, w.pos);
            return;
        }
        if (is_claim_run_column(w.key)) {
            for (const auto& v : w.values)
                if (auto e = v.type == Value::Type::String ? check_run_column(names, w.key, v.s)
                                                           : std::optional<std::string>("expects a name (a string)"))
                    fail(w.pos, "where " + w.key + ": " + *e);
            return;
        }
        if (const ParamSchema* s = param("where", w.key, w.pos))
            for (Value v : w.values)
                if (auto e = check_value(*s, v)) fail(w.pos, "where " + w.key + ": " + *e);
    }
    void group() {
        std::string g = claim.group.empty() ? "arm" : claim.group;
        SourcePos at = claim.group.empty() ? claim.pos : claim.group_pos;
        if (!is_claim_run_column(g)) {
            if (const ParamSchema* s = param("group", g, at))
                for (const std::string* v : {&claim.a, &claim.b})
                    if (auto e = check_group_value(*s, *v)) fail(at, "group " + g + ": " + *e);
            return;
        }
        if (g == "arm" && names.arms.empty()) {
            fail(at, "a and b are arms unless group = \"...\" names their column, and the sweep has no [[arm]]s");
            return;
        }
        for (const std::string* v : {&claim.a, &claim.b})
            if (auto e = check_run_column(names, g, *v)) fail(at, "group " + g + ": " + *e);
    }
    void x() {
        const ParamSchema* s = param("x", claim.x, claim.x_pos);
        if (s && !numeric(*s))
            fail(claim.x_pos,
                 "x " + claim.x + ": a " + std::string(param_type_name(s->type)) + " parameter, not a number");
    }
};

} // namespace

std::vector<Diagnostic> check_claim_keys(const std::vector<SweepSpec>& arms, const PluginRegistry& registry) {
    std::vector<Diagnostic> diags;
    if (arms.empty()) return diags;
    Names names = names_of(arms, registry);
    for (const ClaimSpec& c : arms.front().claims) { // every arm carries the sweep's claims
        if (!c.from_keys()) continue;
        Checker check{names, c, diags};
        for (const auto& w : c.where)
            check.where(w);
        if (!c.a.empty() && !c.group_is_metric()) check.group(); // metric keys: checked against the runs
        if (c.x_is_parameter()) check.x();                       // metrics and attributes: checked against the runs
    }
    return diags;
}

} // namespace iclr
