// `iclr plan SWEEP`: parse, validate and count without training (and without loading libtorch).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "common/values.hpp"
#include "sweep/expansion.hpp"
#include "sweep/trial.hpp"
#include "sweep/validate.hpp"

namespace iclr {

int cmd_plan(const std::string& file, const std::string& profile) {
    SweepSpec spec = parse_sweep(file, profile);
    PluginRegistry reg;
    reg.discover();
    auto plugins = validate_sweep(spec, reg);
    Expansion ex(spec);
    fmt::print("sweep {}{}: {}\n", spec.name, profile.empty() ? "" : " (profile " + profile + ")", spec.description);
    for (size_t s = 0; s < spec.sections.size(); ++s)
        fmt::print("  {:<18} {} {}\n", spec.sections[s].label, plugins[s]->name, plugins[s]->version);
    fmt::print("axes:\n");
    for (const auto& a : spec.axes) {
        std::string what;
        if (a.random())
            what = fmt::format("{} ({} draws)", a.directive, spec.samples);
        else {
            what = fmt::format("{} values", a.size());
            if (a.size() <= 8) {
                what += ":";
                for (size_t k = 0; k < a.size(); ++k)
                    what += " " + value_to_toml(a.value(k));
            }
        }
        fmt::print("  {:<24} {}{}\n", a.label, what, a.zip.empty() ? "" : " [zip " + a.zip + "]");
    }
    fmt::print("  {:<24} {}\n", "seed", spec.seeds.size());
    uint64_t count = 0;
    TrialPoint first, last;
    if (spec.excludes.empty()) {
        count = ex.raw_count();
        if (count) {
            first = ex.at(0);
            last = ex.at(count - 1);
        }
    } else {
        ex.for_each([&](const TrialPoint& p) {
            if (count == 0) first = p;
            last = p;
            ++count;
            return true;
        });
    }
    fmt::print("trials: {}", count);
    if (count != ex.raw_count()) fmt::print(" ({} excluded of {})", ex.raw_count() - count, ex.raw_count());
    fmt::print("\n");
    if (count > 0) {
        fmt::print("first:  {}\n", describe_point(spec, first));
        fmt::print("last:   {}\n", describe_point(spec, last));
        ResolvedTrial t = resolve_trial(spec, plugins, first);
        fmt::print("first trial key {}\n", t.key);
    }
    if (!spec.claims.empty())
        fmt::print("claims: {} ([[claim]]; `iclr verify {}` computes their verdicts)\n", spec.claims.size(), file);
    fmt::print("jobs: {}  timeout: {}  valid: yes\n", spec.jobs,
               spec.timeout_s > 0 ? std::to_string(int(spec.timeout_s)) + "s" : "none");
    return 0;
}

} // namespace iclr
