// The run of a trial in a database made with a plugin version that added or dropped a parameter, or
// by a sweep with other metrics.
#include "cli/runs_by_shared_params.hpp"

#include <fmt/format.h>

#include "common/values.hpp"
#include "store/sqlite_util.hpp"
#include "sweep/sweep.hpp"

namespace iclr {
namespace {

bool is_metric(const ConfigPart& p) { return p.role == "metric"; }

// What was left out: metrics (names that begin "metric "), parameters, or both.
struct LeftOutKinds {
    bool metrics = false, params = false;
};
LeftOutKinds kinds_of(const std::set<std::string>& left_out) {
    LeftOutKinds k;
    for (const auto& x : left_out)
        (x.rfind("metric ", 0) == 0 ? k.metrics : k.params) = true;
    return k;
}

// What a trial and a run of it by any plugin versions, with any metrics, share before any parameter:
// the seed and the plugins that are not metrics (a metric reads the training, never moves it).
std::string shape_of(const SplitConfig& c) {
    std::string out = std::to_string(c.seed);
    for (const auto& p : c.parts)
        if (!is_metric(p)) out += "\n" + p.role + " " + p.plugin;
    return out;
}

// The parts of a trial and of a run of its shape to compare parameter by parameter: every part but
// the metrics, in order, and each metric plugin both have, as often in each; then the metrics only
// one of them has. nullopt where a metric plugin is in both, more often in one.
struct PartPairs {
    std::vector<std::pair<size_t, size_t>> both; // (trial part, run part)
    std::vector<size_t> trial_only, run_only;    // metric parts
};
std::optional<PartPairs> pair_parts(const SplitConfig& trial, const SplitConfig& run) {
    PartPairs out;
    std::map<std::string, std::pair<std::vector<size_t>, std::vector<size_t>>> metrics; // plugin -> (trial, run)
    std::vector<size_t> trial_rest, run_rest;
    for (size_t i = 0; i < trial.parts.size(); ++i)
        (is_metric(trial.parts[i]) ? metrics[trial.parts[i].plugin].first : trial_rest).push_back(i);
    for (size_t j = 0; j < run.parts.size(); ++j)
        (is_metric(run.parts[j]) ? metrics[run.parts[j].plugin].second : run_rest).push_back(j);
    for (size_t k = 0; k < trial_rest.size(); ++k) // the same shape: as many, in the same order
        out.both.emplace_back(trial_rest[k], run_rest[k]);
    for (const auto& [plugin, at] : metrics) {
        const auto& [t, r] = at;
        if (!t.empty() && !r.empty() && t.size() != r.size()) return std::nullopt;
        if (r.empty()) out.trial_only.insert(out.trial_only.end(), t.begin(), t.end());
        if (t.empty()) out.run_only.insert(out.run_only.end(), r.begin(), r.end());
        if (!t.empty() && !r.empty())
            for (size_t k = 0; k < t.size(); ++k)
                out.both.emplace_back(t[k], r[k]);
    }
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
// the trial's version has at its default (`records`, records_of the trial); a metric only one of
// them has left out. `left_out` gets what was left out; `theirs_only` the values of the parameters
// only the run's version has; `metrics_left_out` how many metrics were left out.
bool same_trial(const SplitConfig& trial, const SplitConfig& run, const std::vector<const PluginRecord*>& records,
                std::set<std::string>& left_out, std::string& theirs_only, size_t& metrics_left_out) {
    auto pairs = pair_parts(trial, run);
    if (!pairs) return false;
    for (const auto& [i, j] : pairs->both) {
        const ConfigPart &t = trial.parts[i], &r = run.parts[j];
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
                theirs_only += r.role + " " + r.plugin + "." + name + "=" + value + "\n";
            }
    }
    for (size_t i : pairs->trial_only)
        left_out.insert("metric " + trial.parts[i].plugin + " (only here)");
    for (size_t j : pairs->run_only)
        left_out.insert("metric " + run.parts[j].plugin + " (only in theirs)");
    metrics_left_out = pairs->trial_only.size() + pairs->run_only.size();
    return true;
}

} // namespace

std::string by_shared_params_words(const std::set<std::string>& left_out) {
    // Nothing left out: the same parts and values, the [[metric]] blocks in another order, which
    // gives another text (so another key, and another config for runs_by_config) only where a plugin
    // is named twice, or for a run a schema-9 migration left its key (common/trial_key.hpp).
    if (left_out.empty()) return "by the plugins and parameters both have (the metrics in another order)";
    return fmt::format("{} (left out: {})",
                       kinds_of(left_out).metrics ? "by the plugins and parameters both have"
                                                  : "by the parameters both plugin versions have",
                       fmt::join(left_out, ", "));
}

std::string by_shared_params_reason(const std::set<std::string>& left_out) {
    const LeftOutKinds k = kinds_of(left_out);
    if (k.metrics && k.params) return "other metrics and a version that added or dropped a parameter";
    if (k.metrics) return "other metrics";
    return k.params ? "a version that added or dropped a parameter" : "the metrics in another order";
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
    size_t found_metrics = 0;
    for (const auto& [id, run] : group->second) {
        std::set<std::string> out;
        std::string theirs;
        size_t metrics = 0;
        if (!same_trial(*trial, run, records, out, theirs, metrics)) continue;
        if (found != 0 && theirs != found_theirs) return 0; // runs of other values of a dropped parameter
        // Runs that differ only in metrics are the same training: the one closest to the trial's
        // metrics, and of those the last finished.
        if (found != 0 && metrics > found_metrics) continue;
        found = id;
        found_theirs = std::move(theirs);
        found_left_out = std::move(out);
        found_metrics = metrics;
    }
    if (found != 0 && left_out) left_out->insert(found_left_out.begin(), found_left_out.end());
    return found;
}

} // namespace iclr
