// A sweep ready to run: its arms validated against the plugins, each with its lazy expansion.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plugin/plugin_registry.hpp"
#include "sweep/expansion.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

struct SweepArms {
    std::vector<SweepSpec> specs; // one per arm (one, named "", when the sweep has none)
    std::vector<std::vector<const PluginRecord*>> plugins;
    std::vector<std::unique_ptr<Expansion>> expansions;

    // Sweep-level settings ([sweep]: seeds, jobs, timeout, ...) are shared: arms override plugin
    // sections only.
    const SweepSpec& base() const { return specs.front(); }
    uint64_t raw_count() const;
    bool has_arms() const { return !specs.front().arm.empty(); }
    // "arm=SI model.width=64 seed=0", as progress lines and `iclr plan` show a trial.
    std::string describe(uint32_t arm, const TrialPoint& p) const;
    // Parameters that two or more arms leave to their plugins' defaults where those defaults
    // differ: a difference between the arms no line of the sweep states (an arm running another
    // method plugin takes that plugin's learning rate). One entry per parameter, its values by the
    // plugin: "method.lr (0.03 in lwf; 0.01 in finetune)". Empty without arms.
    std::vector<std::string> unstated_differences() const;
    // Each trial as written, as `iclr run` plans it, in grid order, a trial two points share listed
    // once: its key and the spec it came from (specs[spec].arm is what runs.arm stores,
    // .arm_label() what people read). Every trial is resolved: callers bound the count first.
    struct TrialKey {
        uint32_t spec = 0;
        std::string key;
        uint64_t index = 0;      // its place in specs[spec]'s grid, as runs.trial_index records it
        std::string config_toml; // its canonical text, as runs.config_toml records it
    };
    std::vector<TrialKey> trial_keys() const;
};

// Parses, validates and expands; throws SweepError with every problem of every arm.
SweepArms load_sweep(const std::string& file, const SweepVariant& variant, const PluginRegistry& registry);
// The same for arms already parsed (parse_arms), e.g. by a caller that checked their claims first.
SweepArms load_sweep(std::vector<SweepSpec> specs, const PluginRegistry& registry);

} // namespace iclr
