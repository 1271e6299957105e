// Schema validation of sweeps: unknown keys (with a did-you-mean), types, ranges, choices.
#include "sweep/validate.hpp"

#include <algorithm>
#include <cmath>

#include "common/values.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

// A range bound as the parameter's type reads: [1, 65536] for an int, [0.0, 10.0] for a float.
std::string fmt_bound(double x, iclr_param_type t) {
    return t == ICLR_PARAM_INT ? std::to_string(int64_t(x)) : value_to_toml(Value::of_float(x));
}

} // namespace

std::string parameter_suggestion(const std::string& key, const PluginRecord& p) {
    std::vector<std::string> names;
    for (const auto& s : p.params)
        names.push_back(s.name);
    return did_you_mean_or_all(key, names, "its parameters");
}

namespace {
// A key a plugin's section has that its plugin does not declare: [sweep]'s own keys are the slip
// worth naming (`seeds` under [method]); a key another arm's plugin of the section declares is that
// plugin's, and its table ([method.finetune]) takes it; else the nearest or all parameters.
std::string section_key_note(const std::string& key, const PluginRecord& p, const std::string& section,
                             const ArmPlugins* arm_plugins) {
    std::string hint = sweep_key_hint(key);
    if (!hint.empty()) return hint;
    if (arm_plugins)
        if (auto it = arm_plugins->find(section); it != arm_plugins->end())
            for (const PluginRecord* other : it->second)
                if (other != &p && other->param(key))
                    return " (" + other->name + " has it: what only the arms running " + other->name +
                           " take goes in [" + section + "." + other->name + "])";
    return parameter_suggestion(key, p);
}
} // namespace

std::optional<std::string> check_value(const ParamSchema& s, Value& v) {
    auto got = std::string(value_type_name(v.type));
    if (v.type == Value::Type::List && s.type != ICLR_PARAM_LIST) // the most common slip in a sweep
        return std::string("expected a") + (s.type == ICLR_PARAM_INT ? "n " : " ") + param_type_name(s.type) +
               ", got list " + value_to_toml(v) + " (to sweep over values write { grid = [...] })";
    switch (s.type) {
    case ICLR_PARAM_INT:
        if (v.type != Value::Type::Int) return "expected an int, got " + got + " " + value_to_toml(v);
        break;
    case ICLR_PARAM_FLOAT:
        if (v.type == Value::Type::Int) v = Value::of_float(double(v.i));
        if (v.type != Value::Type::Float) return "expected a float, got " + got + " " + value_to_toml(v);
        if (!std::isfinite(v.f)) return "expected a finite float, got " + value_to_toml(v);
        break;
    case ICLR_PARAM_BOOL:
        if (v.type != Value::Type::Bool) return "expected a bool, got " + got + " " + value_to_toml(v);
        break;
    case ICLR_PARAM_STRING:
        if (v.type != Value::Type::String) return "expected a string, got " + got + " " + value_to_toml(v);
        if (!s.choices.empty() && std::find(s.choices.begin(), s.choices.end(), v.s) == s.choices.end())
            return "\"" + v.s + "\" is not one of: " + names_list(s.choices);
        break;
    case ICLR_PARAM_LIST:
        if (v.type != Value::Type::List) return "expected a list, got " + got + " " + value_to_toml(v);
        break;
    }
    if (s.has_range() && (v.type == Value::Type::Int || v.type == Value::Type::Float)) {
        double x = v.as_number();
        if (x < s.min || x > s.max)
            return value_to_toml(v) + " is out of range [" + fmt_bound(s.min, s.type) + ", " +
                   fmt_bound(s.max, s.type) + "]";
    }
    return std::nullopt;
}

namespace {

// One section's plugin (none, unknown or broken: a diagnostic, and null) and its fixed keys. A
// null plugin always comes with a diagnostic, so validate_sweep never returns one.
const PluginRecord* check_section(SectionSpec& sec, const PluginRegistry& registry, const ArmPlugins* arm_plugins,
                                  std::vector<Diagnostic>& diags) {
    iclr_kind kind = role_kind(sec.role);
    if (sec.plugin.empty()) { // the parser refuses this first; said here too, never passed on as null
        diags.push_back({sec.plugin_pos.line > 0 ? sec.plugin_pos : sec.pos, sec.label + " names no plugin"});
        return nullptr;
    }
    const PluginRecord* p = registry.find(kind, sec.plugin);
    if (!p) {
        std::string known;
        std::vector<std::string> names;
        for (const auto& r : registry.records())
            if (r.ok && r.kind == kind) {
                known += (known.empty() ? "" : ", ") + r.name;
                names.push_back(r.name);
            }
        diags.push_back({sec.plugin_pos, "unknown " + std::string(kind_name(kind)) + " plugin '" + sec.plugin + "'" +
                                             did_you_mean(sec.plugin, names) + " (available: " +
                                             (known.empty() ? "none" : known) + registry.where_searched() + ")"});
        return nullptr;
    }
    if (!p->ok) {
        diags.push_back(
            {sec.plugin_pos, sec.role + " plugin '" + sec.plugin + "' is broken: " + p->error + " [" + p->file + "]"});
        return nullptr;
    }
    for (auto& [key, value] : sec.fixed) {
        const ParamSchema* s = p->param(key);
        SourcePos at = sec.key_pos[key];
        if (!s) {
            diags.push_back({at, sec.role + " '" + p->name + "' has no parameter '" + key + "'" +
                                     section_key_note(key, *p, sec.label, arm_plugins)});
            continue;
        }
        if (auto e = check_value(*s, value)) diags.push_back({at, sec.label + "." + key + ": " + *e});
    }
    return p;
}

// One axis of a section whose plugin `p` is known (its listed values coerced to the parameter's type): the parameter
// exists, every value (or, for a generated or random axis, its bounds) is in its range and of its type.
void check_axis(Axis& a, const SectionSpec& sec, const PluginRecord& p, const ArmPlugins* arm_plugins,
                std::vector<Diagnostic>& diags) {
    const std::string& role = sec.role;
    const ParamSchema* s = p.param(a.key);
    if (!s) {
        diags.push_back({a.pos, role + " '" + p.name + "' has no parameter '" + a.key + "'" +
                                    section_key_note(a.key, p, sec.label, arm_plugins)});
        return;
    }
    for (size_t k = 0; k < a.values.size(); ++k)
        if (auto e = check_value(*s, a.values[k])) diags.push_back({a.value_pos[k], a.label + ": " + *e});
    if (a.gen != Axis::Gen::List) // generated values are monotonic: the endpoints bound them all
        for (size_t k : {size_t(0), a.size() - 1}) {
            Value v = a.value(k);
            if (auto e = check_value(*s, v)) {
                diags.push_back({a.pos, a.label + ": " + *e});
                break;
            }
        }
    if (a.kind != Axis::Kind::Uniform && a.kind != Axis::Kind::LogUniform && a.kind != Axis::Kind::RandInt) return;
    if (a.kind == Axis::Kind::RandInt ? s->type != ICLR_PARAM_INT : s->type != ICLR_PARAM_FLOAT) {
        diags.push_back({a.pos, a.label + ": " + a.directive + " draws " +
                                    (a.kind == Axis::Kind::RandInt ? "ints" : "floats") + " but the parameter is " +
                                    param_type_name(s->type)});
        return;
    }
    for (double bound : {a.lo, a.hi}) {
        Value v = s->type == ICLR_PARAM_INT ? Value::of_int(int64_t(bound)) : Value::of_float(bound);
        if (auto e = check_value(*s, v)) diags.push_back({a.pos, a.label + ": bound " + *e});
    }
}

} // namespace

std::vector<const PluginRecord*> validate_sweep(SweepSpec& spec, const PluginRegistry& registry,
                                                const ArmPlugins* arm_plugins) {
    std::vector<Diagnostic> diags;
    std::vector<const PluginRecord*> plugins;
    for (auto& sec : spec.sections)
        plugins.push_back(check_section(sec, registry, arm_plugins, diags));
    for (auto& a : spec.axes)
        if (const PluginRecord* p = plugins[size_t(a.section)])
            check_axis(a, spec.sections[size_t(a.section)], *p, arm_plugins, diags);
    if (!diags.empty()) throw SweepError(diags);
    return plugins;
}

std::vector<std::vector<const PluginRecord*>> validate_arms(std::vector<SweepSpec>& arms,
                                                            const PluginRegistry& registry) {
    std::vector<std::vector<const PluginRecord*>> plugins;
    std::vector<std::pair<std::string, std::vector<Diagnostic>>> diags;
    ArmPlugins arm_plugins;
    for (const auto& spec : arms)
        for (const auto& sec : spec.sections)
            if (const PluginRecord* p = registry.find(role_kind(sec.role), sec.plugin); p && p->ok) {
                auto& known = arm_plugins[sec.label];
                if (std::find(known.begin(), known.end(), p) == known.end()) known.push_back(p);
            }
    for (auto& spec : arms) {
        try {
            plugins.push_back(validate_sweep(spec, registry, &arm_plugins));
            diags.emplace_back(spec.arm_label(), std::vector<Diagnostic>{});
        } catch (const SweepError& e) {
            diags.emplace_back(spec.arm_label(), e.diagnostics);
        }
    }
    std::vector<Diagnostic> all = arms.size() == 1 ? diags[0].second : merge_arm_diagnostics(diags);
    for (auto& d : check_claim_keys(arms, registry))
        all.push_back(std::move(d));
    if (!all.empty()) throw SweepError(all);
    return plugins;
}

} // namespace iclr
