// Loading a sweep with its arms: parse every arm, validate each against its plugins, expand.
#include "sweep/sweep_arms.hpp"

#include <map>
#include <set>
#include <unordered_set>

#include "common/values.hpp"
#include "sweep/trial.hpp"
#include "sweep/validate.hpp"

namespace iclr {

uint64_t SweepArms::raw_count() const {
    uint64_t n = 0;
    for (const auto& e : expansions)
        n += e->raw_count();
    return n;
}

std::string SweepArms::describe(uint32_t arm, const TrialPoint& p) const {
    std::string s = describe_point(specs[arm], p);
    if (!has_arms()) return s;
    const SweepSpec& a = specs[arm];
    return "arm=" + a.arm + (a.axis.empty() ? "" : " " + a.axis) + " " + s;
}

std::vector<std::string> SweepArms::unstated_differences() const {
    // "label.key" -> the default's TOML -> the plugins whose default it is, in arms that leave it
    std::map<std::string, std::map<std::string, std::set<std::string>>> left;
    for (size_t k = 0; has_arms() && k < specs.size(); ++k)
        for (size_t s = 0; s < specs[k].sections.size(); ++s) {
            const SectionSpec& sec = specs[k].sections[s];
            std::set<std::string> stated;
            for (const auto& [key, v] : sec.fixed)
                stated.insert(key);
            for (const auto& a : specs[k].axes)
                if (a.section == int(s)) stated.insert(a.key);
            for (const auto& p : plugins[k][s]->params)
                if (!stated.count(p.name))
                    left[sec.label + "." + p.name][value_to_toml(p.default_value)].insert(plugins[k][s]->name);
        }
    std::vector<std::string> out;
    for (const auto& [key, by_value] : left) {
        if (by_value.size() < 2) continue; // one default in every arm that leaves it
        std::string values;
        for (const auto& [value, names] : by_value) {
            values += (values.empty() ? "" : "; ") + value + " in";
            for (const auto& n : names)
                values += (n == *names.begin() ? " " : ", ") + n;
        }
        out.push_back(key + " (" + values + ")");
    }
    return out;
}

SweepArms load_sweep(const std::string& file, const SweepVariant& variant, const PluginRegistry& registry) {
    return load_sweep(parse_arms(file, variant), registry);
}

SweepArms load_sweep(std::vector<SweepSpec> specs, const PluginRegistry& registry) {
    SweepArms a;
    a.specs = std::move(specs);
    a.plugins = validate_arms(a.specs, registry);
    for (const auto& spec : a.specs) // specs no longer move: each expansion keeps a reference
        a.expansions.push_back(std::make_unique<Expansion>(spec));
    return a;
}

std::vector<SweepArms::TrialKey> SweepArms::trial_keys() const {
    std::vector<TrialKey> out;
    std::unordered_set<std::string> seen;
    for (uint32_t k = 0; k < specs.size(); ++k)
        expansions[k]->for_each([&](const TrialPoint& p) {
            ResolvedTrial t = resolve_trial(specs[k], plugins[k], p);
            if (seen.insert(t.key).second) out.push_back({k, std::move(t.key), p.index, std::move(t.config_toml)});
            return true;
        });
    return out;
}

} // namespace iclr
