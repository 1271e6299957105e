// `iclr diff RUN_A RUN_B`: what differs between two runs (parameters, provenance) and their final
// metrics side by side.
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/runs_by_shared_params.hpp"
#include "cli/sweep_runs.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "common/trial_config.hpp"
#include "store/run_diff.hpp"
#include "store/sqlite_util.hpp"

namespace iclr {
namespace {

std::string section(const std::string& title, const ResultSet& rs, Format f) {
    if (rs.rows.empty()) return title + "\n\n";
    return title + "\n" + render(rs, f) + "\n";
}

// For reading (table, Markdown): the parameters only one run has — its section's plugin differs
// (finetune's twenty pretraining and SAM keys beside replay) — as one line per section and run,
// after the parameters both have that differ. CSV and JSON keep every row.
std::string config_section(const RunDiff& d, Format f) {
    if (f == Format::Csv || f == Format::Json)
        return section(fmt::format("config: {} differ, {} the same", d.config.rows.size(), d.config_same), d.config, f);
    ResultSet both;
    both.columns = d.config.columns;
    std::map<std::pair<std::string, int>, std::vector<std::string>> only; // (section, side) -> keys
    for (size_t i = 0; i < d.config.rows.size(); ++i) {
        bool a = !d.config.is_null[i][1], b = !d.config.is_null[i][2];
        const std::string& key = d.config.rows[i][0];
        if (a && b) {
            both.rows.push_back(d.config.rows[i]);
            both.is_null.push_back(d.config.is_null[i]);
            both.is_number.push_back(d.config.is_number[i]);
        } else {
            only[{key.substr(0, key.find('.')), a ? 1 : 2}].push_back(key.substr(key.find('.') + 1) + " = " +
                                                                      d.config.rows[i][a ? 1 : 2]);
        }
    }
    size_t lacked = d.config.rows.size() - both.rows.size();
    std::string out = section(fmt::format("config: {} differ{}, {} the same", both.rows.size(),
                                          lacked ? fmt::format(", {} only one run has", lacked) : "", d.config_same),
                              both, f);
    if (both.rows.empty() && lacked) out.pop_back(); // the blank line goes after the lines below
    for (const auto& [where, keys] : only) {
        std::string list;
        for (const auto& k : keys)
            list += (list.empty() ? "" : ", ") + k;
        out += fmt::format("  only run {}'s {} has: {}\n", where.second == 1 ? d.a.id : d.b.id, where.first, list);
    }
    return lacked ? out + "\n" : out;
}

// The database run b is read from: this one, or --against's (which must exist: opening would create it).
std::unique_ptr<Store> other_store(const std::string& against) {
    std::error_code ec;
    if (!std::filesystem::exists(against, ec)) throw UserError("--against " + against + ": no such database");
    return Store::open_read(against);
}

// Where a run has no run of its key in the other database (made with other plugin versions or
// metrics: other keys), the run there of the same plugins, parameters and seed (runs_by_config),
// else of the parameters both versions have, metrics only one has left out (RunsBySharedParams,
// with the defaults of the plugins built here), else the run at its place in the sweep
// (runs_by_place). Its id, or "" when none; `how` says which and why its key differs.
std::string run_of_same_trial(Store& store, int64_t run, Store& other, std::string& how) {
    Statement place(store.db(), "SELECT w.name, w.source_sha256, COALESCE(w.profile, ''), COALESCE(r.arm, ''), "
                                "r.trial_index, r.config_toml FROM runs r JOIN sweeps w ON w.id = r.sweep_id "
                                "WHERE r.id = ?1");
    place.bind(1, run);
    if (!place.step()) return "";
    auto with = runs_by_config(other);
    if (auto it = with.find(config_without_versions(place.col_text(5))); it != with.end()) {
        how = "the same trial (its plugins, parameters and seed), run with other plugin versions";
        return std::to_string(it->second);
    }
    PluginRegistry registry; // its defaults; without plugins here, no parameter is taken as at its default
    try {
        registry.discover();
    } catch (const std::exception&) {
        registry = PluginRegistry::with_records({});
    }
    std::set<std::string> left_out;
    if (int64_t id = RunsBySharedParams(other).find(place.col_text(5), registry, &left_out)) {
        how = "the same trial " + by_shared_params_words(left_out) + ", run with " + by_shared_params_reason(left_out);
        return std::to_string(id);
    }
    const std::string arm = place.col_text(3);
    const int64_t index = place.col_int(4);
    auto at = runs_by_place(other, place.col_text(0), place.col_text(1), place.col_text(2));
    auto it = at.find({arm, index});
    if (it == at.end()) return "";
    how = fmt::format("the trial at its place in the sweep, {}grid index {}, run with other plugin versions",
                      arm.empty() ? "" : "arm " + arm + ", ", index);
    return std::to_string(it->second);
}

} // namespace

int cmd_diff(const std::string& a, const std::string& b, const std::string& against, const std::string& format,
             const CommonOptions& c) {
    Format f = parse_format(format);
    if (b.empty() && against.empty())
        throw UserError("iclr diff takes two runs (or one and --against DB: the run of its trial there)");
    auto store = Store::open_read(c.db_path());
    auto other = against.empty() ? nullptr : other_store(against);
    Store& store_b = other ? *other : *store;
    std::string b_run = b, how;
    std::optional<RunDetails> run;
    if (b_run.empty()) { // the same trial: run a's key, else (below) its place in the sweep
        run = load_run_details(*store, a);
        if (!run)
            throw UserError("no run '" + a + "' in " + store->path() +
                            " (give a run id or a key prefix of 6+ characters)");
        b_run = run->key;
    }
    RunDiffResult r = load_run_diff(*store, a, store_b, b_run);
    if (!r.diff && run && r.missing == b_run)
        if (std::string id = run_of_same_trial(*store, run->id, store_b, how); !id.empty())
            r = load_run_diff(*store, a, store_b, b_run = id);
    if (!r.diff) {
        const bool in_b = &store_b != store.get() && r.missing == b_run;
        throw UserError("no run '" + r.missing + "' in " + (in_b ? store_b.path() : store->path()) +
                        (in_b && b.empty() ? " (no run of run " + a + "'s trial there)"
                                           : " (give a run id or a key prefix of 6+ characters)"));
    }
    const RunDiff& d = *r.diff;
    std::string out;
    if (f == Format::Json) {
        out = fmt::format("{{\"a\": {}, \"b\": {}, \"config\": {}, \"provenance\": {}, \"final_metrics\": {}}}\n",
                          d.a.id, d.b.id, render(d.config, f), render(d.provenance, f), render(d.metrics, f));
    } else {
        out = fmt::format("run {} ({}, seed {}) vs run {}{} ({}, seed {})\n", d.a.id, d.a.sweep, d.a.seed, d.b.id,
                          other ? " of " + against : "", d.b.sweep, d.b.seed);
        if (!how.empty())
            out += fmt::format("(no run there has run {}'s key: run {} there is {})\n", d.a.id, d.b.id, how);
        out += "\n";
        out += config_section(d, f);
        out += section(fmt::format("provenance: {} differ, {} the same", d.provenance.rows.size(), d.provenance_same),
                       d.provenance, f);
        out += section("final metrics:", d.metrics, f);
    }
    // Plugins' metric names and errors are shown, never obeyed: no terminal escapes get through.
    fmt::print("{}", printable(out, true));
    return 0;
}

} // namespace iclr
