// Trial resolution and the canonical config text that trial keys hash.
#include "sweep/trial.hpp"

#include <algorithm>

#include "common/values.hpp"

namespace iclr {

std::vector<const ResolvedPart*> parts_in_key_order(const std::vector<ResolvedPart>& parts) {
    std::vector<const ResolvedPart*> out, metrics;
    std::vector<std::string> names;
    for (const auto& part : parts) {
        if (part.section->role != "metric") {
            out.push_back(&part);
        } else {
            metrics.push_back(&part);
            names.push_back(part.plugin->name);
        }
    }
    for (size_t i : metric_key_order(names))
        out.push_back(metrics[i]);
    return out;
}

std::string canonical_config(int64_t seed, const std::vector<ResolvedPart>& parts) {
    std::string text = "seed = " + std::to_string(seed) + "\n";
    for (const ResolvedPart* p : parts_in_key_order(parts)) {
        const ResolvedPart& part = *p;
        text += part.section->role == "metric" ? "\n[[metric]]\n" : "\n[" + part.section->role + "]\n";
        text += "plugin = " + value_to_toml(Value::of_string(part.plugin->name)) + "\n";
        text += "version = " + value_to_toml(Value::of_string(part.plugin->version)) + "\n";
        text += "params = " + inline_table(part.params) + "\n";
    }
    return text;
}

namespace {

// A method that does not read [pretrain] (ICLR_FLAG_READS_PRETRAIN unset: ewc beside finetune's
// arms) leaves it out of its trials: the pretraining data cannot change what it computes, so its
// config, key, parameters and provenance do not list it, and a change to [pretrain] reruns none of
// its trials.
void drop_unread_pretrain(std::vector<ResolvedPart>& parts) {
    auto method =
        std::find_if(parts.begin(), parts.end(), [](const ResolvedPart& p) { return p.section->role == "method"; });
    if (method == parts.end() || method->plugin->reads_pretrain) return;
    parts.erase(
        std::remove_if(parts.begin(), parts.end(), [](const ResolvedPart& p) { return p.section->role == "pretrain"; }),
        parts.end());
}

} // namespace

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
    drop_unread_pretrain(t.parts);
    t.config_toml = canonical_config(t.seed, t.parts);
    t.key = trial_key(t.config_toml);
    return t;
}

} // namespace iclr
