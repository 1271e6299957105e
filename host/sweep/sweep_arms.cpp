// Loading a sweep with its arms: parse every arm, validate each against its plugins, expand.
#include "sweep/sweep_arms.hpp"

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

} // namespace iclr
