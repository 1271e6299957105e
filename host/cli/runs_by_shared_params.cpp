// The run of a trial in a database made with a plugin version that added or dropped a parameter.
#include "cli/runs_by_shared_params.hpp"

#include "common/values.hpp"
#include "store/sqlite_util.hpp"
#include "sweep/sweep.hpp"

namespace iclr {
namespace {

// What a trial and a run of it by any plugin versions share before any parameter: seed and plugins.
std::string shape_of(const SplitConfig& c) {
    std::string out = std::to_string(c.seed);
    for (const auto& p : c.parts)
        out += "\n" + p.role + " " + p.plugin;
    return out;
}

// Each part's plugin as `registry` declares it, where that is the version the trial names (else
// null: no parameter of it counts as at its default).
std::vector<const PluginRecord*> records_of(const SplitConfig& trial, const PluginRegistry& registry) {
    std::vector<const PluginRecord*> out;
    for (const auto& t : trial.parts) {
        const PluginRecord* record = registry.find(role_kind(t.role), t.plugin);
        out.push_back(record && record->version == t.version ? record : nullptr);
    }
    return out;
}

// Whether `run` (same shape) stands for `trial`: a parameter of both with the same value, one only
// the trial's version has at its default (`records`, records_of the trial). `left_out` gets what was
// left out; `theirs_only` the values of the parameters only the run's version has.
bool same_trial(const SplitConfig& trial, const SplitConfig& run, const std::vector<const PluginRecord*>& records,
                std::set<std::string>& left_out, std::string& theirs_only) {
    for (size_t i = 0; i < trial.parts.size(); ++i) {
        const ConfigPart &t = trial.parts[i], &r = run.parts[i];
        for (const auto& [name, value] : t.params) {
            if (auto it = r.params.find(name); it != r.params.end()) {
                if (it->second != value) return false;
                continue;
            }
            const ParamSchema* schema = records[i] ? records[i]->param(name) : nullptr;
            if (!schema || value_to_toml(schema->default_value) != value) return false;
            left_out.insert(t.plugin + "." + name + " (only in this version, at its default)");
        }
        for (const auto& [name, value] : r.params)
            if (!t.params.count(name)) {
                left_out.insert(t.plugin + "." + name + " (only in theirs)");
                theirs_only += std::to_string(i) + "." + name + "=" + value + "\n";
            }
    }
    return true;
}

} // namespace

std::string by_shared_params_words(const std::set<std::string>& left_out) {
    std::string names;
    for (const auto& x : left_out)
        names += (names.empty() ? "" : ", ") + x;
    return "by the parameters both plugin versions have (left out: " + names + ")";
}

RunsBySharedParams::RunsBySharedParams(Store& other) {
    Statement st(other.db(),
                 "SELECT id, config_toml FROM runs ORDER BY status IN ('done', 'diverged'), finished_at, id");
    while (st.step())
        if (auto c = split_config(st.col_text(1))) runs_[shape_of(*c)].emplace_back(st.col_int(0), std::move(*c));
}

int64_t RunsBySharedParams::find(const std::string& config_toml, const PluginRegistry& registry,
                                 std::set<std::string>* left_out) const {
    auto trial = split_config(config_toml);
    if (!trial) return 0;
    auto group = runs_.find(shape_of(*trial));
    if (group == runs_.end()) return 0;
    const auto records = records_of(*trial, registry);
    int64_t found = 0;
    std::string found_theirs;
    std::set<std::string> found_left_out;
    for (const auto& [id, run] : group->second) {
        std::set<std::string> out;
        std::string theirs;
        if (!same_trial(*trial, run, records, out, theirs)) continue;
        if (found != 0 && theirs != found_theirs) return 0; // runs of other values of a dropped parameter
        found = id;                                         // of several runs of one trial, the last finished
        found_theirs = std::move(theirs);
        found_left_out = std::move(out);
    }
    if (found != 0 && left_out) left_out->insert(found_left_out.begin(), found_left_out.end());
    return found;
}

} // namespace iclr
