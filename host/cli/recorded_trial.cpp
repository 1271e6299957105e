// Rebuilding a recorded run's trial (recorded_trial.hpp): parts from config_toml, labels from plugins_json.
#include "cli/recorded_trial.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>

#include "common/errors.hpp"
#include "common/values.hpp"

namespace iclr {
namespace {

// The section's label in the run's plugins_json: the role, or for a metric "metric.NAME" (or
// "metric.INDEX" when the sweep named the plugin twice, as the parser labels them).
std::string part_label(const RunDetails& run, const std::string& role, int index, const std::string& name) {
    if (role != "metric") return role;
    for (const auto& p : run.plugins)
        if (p.role == "metric." + name && p.name == name) return p.role;
    return "metric." + std::to_string(index);
}

const RunDetails::PluginUse* plugin_use(const RunDetails& run, const std::string& label) {
    for (const auto& p : run.plugins)
        if (p.role == label) return &p;
    return nullptr;
}

class Rebuilder {
  public:
    Rebuilder(const RunDetails& run, const PluginRegistry& registry) : run_(run), registry_(registry) {}

    RecordedTrial rebuild() {
        auto parsed = toml::parse(run_.config_toml);
        if (!parsed) fail("its recorded config is not TOML (" + std::string(parsed.error().description()) + ")");
        const toml::table& root = parsed.table();
        out_.trial.seed = root["seed"].value_or(int64_t(0));
        for (const char* role : kSectionRoles) // the canonical order, then the metrics
            if (const toml::table* t = root[role].as_table()) add_part(role, 0, *t);
        if (const toml::array* metrics = root["metric"].as_array())
            for (size_t i = 0; i < metrics->size(); ++i)
                if (const toml::table* t = metrics->get(i)->as_table()) add_part("metric", int(i), *t);
        out_.trial.config_toml = canonical_config(out_.trial.seed, out_.trial.parts);
        out_.trial.key = trial_key(out_.trial.config_toml);
        if (const std::string today = config_in_key_order(run_.config_toml); today != run_.config_toml)
            fail("its [[metric]] blocks are in the order of the sweep file it ran from, and another run of the same "
                 "trial holds the key the trial has today (metrics listed by name since schema 9): `iclr rerun " +
                 trial_key(today).substr(0, 12) + "` reruns that one");
        if (out_.trial.config_toml != run_.config_toml || out_.trial.key != run_.key)
            fail("its recorded config does not read back to its key " + run_.key +
                 " (the database was edited, or an iclr with another config format wrote it)");
        return std::move(out_);
    }

  private:
    [[noreturn]] void fail(const std::string& why) const {
        throw UserError(fmt::format("run {} cannot be rerun: {}", run_.id, why));
    }

    void add_part(const std::string& role, int index, const toml::table& t) {
        std::string name = t["plugin"].value_or(std::string());
        std::string version = t["version"].value_or(std::string());
        SectionSpec& section = out_.sections.emplace_back();
        section.role = role;
        section.index = index;
        section.plugin = name;
        section.label = part_label(run_, role, index, name);
        ResolvedPart part{&section, find_plugin(role, name, version), {}};
        if (const toml::table* params = t["params"].as_table())
            for (auto&& [k, v] : *params) {
                auto value = value_from_toml(v);
                if (!value) fail(fmt::format("its {} parameter '{}' is not a value", section.label, k.str()));
                part.params.values[std::string(k.str())] = *value;
            }
        note_build(section.label, *part.plugin);
        out_.trial.parts.push_back(std::move(part));
    }

    const PluginRecord* find_plugin(const std::string& role, const std::string& name, const std::string& version) {
        const PluginRecord* p = registry_.find(role_kind(role), name);
        if (!p) fail(fmt::format("its {} plugin '{}' is not found today{}", role, name, registry_.where_searched()));
        if (!p->ok) fail(fmt::format("its {} plugin '{}' is broken today ({}): {}", role, name, p->file, p->error));
        if (p->version != version)
            fail(fmt::format("it ran {} {} {}, and today's is {} ({}): another version is another trial "
                             "(`iclr run` its sweep to run that)",
                             role, name, version, p->version, p->file));
        return p;
    }

    void note_build(const std::string& label, const PluginRecord& p) {
        const RunDetails::PluginUse* used = plugin_use(run_, label);
        if (used && used->sha256 != p.sha256)
            out_.other_builds.push_back(fmt::format("{} {} {}: today's library {} is another build (sha256 {}, the "
                                                    "run's {})",
                                                    label, p.name, p.version, p.file, p.sha256.substr(0, 12),
                                                    used->sha256.substr(0, 12)));
        if (p.stale)
            out_.other_builds.push_back(
                fmt::format("{} {} {}: {} is older than its sources (stale): the rerun runs the library as built",
                            label, p.name, p.version, p.file));
    }

    const RunDetails& run_;
    const PluginRegistry& registry_;
    RecordedTrial out_;
};

} // namespace

RecordedSettings recorded_settings(const RunDetails& run) {
    try {
        SweepSpec s = recorded_sweep(run.sweep_file, run.sweep_profile, run.sweep_source);
        return {s.timeout_s, s.memory_mb, s.on_nonfinite, ""};
    } catch (const std::exception& e) {
        return {0, 0, "stop", e.what()};
    }
}

RecordedTrial recorded_trial(const RunDetails& run, const PluginRegistry& registry) {
    return Rebuilder(run, registry).rebuild();
}

} // namespace iclr
