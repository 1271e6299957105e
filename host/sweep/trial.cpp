// Trial resolution and the canonical config text that trial keys hash.
#include "sweep/trial.hpp"

#include <sstream>

#include <toml++/toml.h>

#include "common/file_hash.hpp"
#include "common/values.hpp"

namespace iclr {

std::string canonical_config(int64_t seed, const std::vector<ResolvedPart>& parts) {
    std::string text = "seed = " + std::to_string(seed) + "\n";
    for (const auto& part : parts) {
        text += part.section->role == "metric" ? "\n[[metric]]\n" : "\n[" + part.section->role + "]\n";
        text += "plugin = " + value_to_toml(Value::of_string(part.plugin->name)) + "\n";
        text += "version = " + value_to_toml(Value::of_string(part.plugin->version)) + "\n";
        text += "params = {";
        bool first = true;
        for (const auto& [k, v] : part.params.values) { // std::map: sorted keys
            text += (first ? " " : ", ") + k + " = " + value_to_toml(v);
            first = false;
        }
        text += first ? "}\n" : " }\n";
    }
    return text;
}

std::string trial_key(const std::string& config_toml) { return sha256_hex(config_toml).substr(0, 32); }

ResolvedTrial resolve_trial(const SweepSpec& spec, const std::vector<const PluginRecord*>& plugins,
                            const TrialPoint& point) {
    ResolvedTrial t;
    t.index = point.index;
    t.seed = point.seed;
    for (size_t s = 0; s < spec.sections.size(); ++s) {
        ResolvedPart part;
        part.section = &spec.sections[s];
        part.plugin = plugins[s];
        for (const auto& p : part.plugin->params)
            part.params.values[p.name] = p.default_value;
        for (const auto& [k, v] : part.section->fixed)
            part.params.values[k] = v;
        t.parts.push_back(std::move(part));
    }
    for (size_t k = 0; k < spec.axes.size(); ++k) {
        Value v = point.axis_values[k];
        const ParamSchema* schema = t.parts[size_t(spec.axes[k].section)].plugin->param(spec.axes[k].key);
        if (schema && schema->type == ICLR_PARAM_FLOAT && v.type == Value::Type::Int) v = Value::of_float(double(v.i));
        t.parts[size_t(spec.axes[k].section)].params.values[spec.axes[k].key] = v;
    }
    t.config_toml = canonical_config(t.seed, t.parts);
    t.key = trial_key(t.config_toml);
    return t;
}

std::string config_json(const std::string& config_toml) {
    auto parsed = toml::parse(config_toml);
    if (!parsed) return "{}";
    std::ostringstream out;
    out << toml::json_formatter{parsed.table()};
    return out.str();
}

} // namespace iclr
