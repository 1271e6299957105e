// Which runs of a database are the trials of a sweep file as written: the TEMP table sweep_runs.
#include "cli/sweep_runs.hpp"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <fmt/core.h>

#include "cli/runs_by_shared_params.hpp"
#include "common/errors.hpp"
#include "common/file_hash.hpp"
#include "common/trial_config.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/query.hpp"
#include "store/sqlite_util.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/validate.hpp"

namespace iclr {
namespace {

// One trial of the sweep as written, as this build plans it.
struct PlannedTrial {
    std::string key;
    std::string arm;         // as runs.arm stores it ("" for a sweep without arms)
    uint64_t index = 0;      // its place in the arm's grid (runs.trial_index)
    std::string config_toml; // its canonical text (runs.config_toml)
};

struct Plan {
    std::string name, source_sha256;  // as the sweeps table records an `iclr run` of it
    std::vector<int64_t> seeds;       // the seeds it plans
    std::vector<PlannedTrial> trials; // a trial two points share listed once
    PluginRegistry registry;          // the plugins it was planned with (their defaults)
};

// The sweep's trials as written (this file, this profile, these plugin versions); nullopt, with a
// note, when it cannot be planned here (its plugins are not built).
std::optional<Plan> plan_of(const std::string& sweep, const SweepVariant& variant) {
    auto cannot_plan = [](const std::exception& e) {
        std::fprintf(stderr,
                     "iclr: note: the sweep cannot be planned here (%s); every run in the database counts "
                     "as one of its trials\n",
                     e.what());
        return std::nullopt;
    };
    PluginRegistry reg;
    try {
        reg.discover();
    } catch (const std::exception& e) {
        return cannot_plan(e);
    }
    // A claim's keys naming no parameter would select no rows: refused, as a claim's bad SQL is,
    // whether or not the rest of the sweep can be planned here.
    std::vector<SweepSpec> specs = parse_arms(sweep, variant);
    if (auto d = check_claim_keys(specs, reg); !d.empty()) throw SweepError(d);
    try {
        SweepArms arms = load_sweep(std::move(specs), reg);
        std::vector<PlannedTrial> trials;
        for (auto& t : arms.trial_keys())
            trials.push_back({std::move(t.key), arms.specs[t.spec].arm, t.index, std::move(t.config_toml)});
        // The registry moves last: `arms` points into its records until here.
        return Plan{arms.base().name, sha256_hex(arms.base().source_text), arms.base().seeds, std::move(trials),
                    std::move(reg)};
    } catch (const std::exception& e) {
        return cannot_plan(e);
    }
}

// run id -> the planned trial it is: the run with the trial's key.
std::map<int64_t, const PlannedTrial*> runs_by_key(Store& store, const Plan& plan) {
    std::map<std::string, const PlannedTrial*> trial_of;
    for (const auto& t : plan.trials)
        trial_of.emplace(t.key, &t);
    std::map<int64_t, const PlannedTrial*> runs;
    for (const auto& row : run_query(store, "SELECT id, key FROM runs", true).rows)
        if (auto it = trial_of.find(row[1]); it != trial_of.end())
            runs[std::strtoll(row[0].c_str(), nullptr, 10)] = it->second;
    return runs;
}

// Adds, for each trial no run stands for yet, the run `run_at(trial)` names (0: none). Returns how
// many it added.
template <typename RunAt>
size_t add_runs(const Plan& plan, std::map<int64_t, const PlannedTrial*>& runs, RunAt run_at) {
    std::set<const PlannedTrial*> found;
    for (const auto& [id, t] : runs)
        found.insert(t);
    size_t added = 0;
    for (const auto& t : plan.trials)
        if (int64_t id = found.count(&t) ? 0 : run_at(t); id != 0 && !runs.count(id)) {
            runs[id] = &t;
            ++added;
        }
    return added;
}

// Finished runs, not in sweep_runs (filled first), of the plan's trials at other seeds.
OtherSeeds runs_at_other_seeds(Store& store, const Plan& plan) {
    std::set<std::string> trials;
    for (const auto& t : plan.trials)
        trials.insert(config_at_any_seed(t.config_toml));
    OtherSeeds out{{}, plan.seeds, {}};
    Statement st(store.db(), "SELECT seed, config_toml, id FROM runs WHERE status IN ('done', 'diverged') AND id NOT "
                             "IN (SELECT id FROM sweep_runs)");
    while (st.step())
        if (trials.count(config_at_any_seed(st.col_text(1)))) {
            ++out.runs[st.col_int(0)];
            out.ids.insert(st.col_int(2));
        }
    return out;
}

// "3-9, 12": sorted numbers with each run of consecutive ones as its ends.
std::string number_ranges(const std::set<int64_t>& numbers) {
    std::string out;
    for (auto it = numbers.begin(); it != numbers.end();) {
        int64_t first = *it, last = *it;
        while (++it != numbers.end() && *it == last + 1)
            last = *it;
        out += (out.empty() ? "" : ", ") + std::to_string(first) +
               (last == first ? "" : (last == first + 1 ? ", " : "-") + std::to_string(last));
    }
    return out;
}

// sweep_runs(id, arm, sweep) holds `runs` with their trials' arms and the sweep's name, or every run
// (nullptr) with its own; `clear`: instead of what it held (one sweep's), else beside it (several).
void fill_sweep_runs(Store& store, const std::map<int64_t, const PlannedTrial*>* runs, const std::string& name,
                     bool clear = true) {
    // A reader's connection is query_only, which refuses TEMP tables too; it is opened read-only
    // as well, so lifting query_only for these statements still writes nothing to the file.
    Statement mode(store.db(), "PRAGMA query_only");
    bool query_only = mode.step() && mode.col_int(0) != 0;
    mode.reset();
    if (query_only) exec_sql(store.db(), "PRAGMA query_only=0");
    exec_sql(store.db(), "CREATE TEMP TABLE IF NOT EXISTS sweep_runs(id INTEGER NOT NULL, arm TEXT, sweep TEXT NOT "
                         "NULL, PRIMARY KEY (id, sweep)) WITHOUT ROWID");
    if (clear) exec_sql(store.db(), "DELETE FROM sweep_runs");
    if (!runs) {
        exec_sql(store.db(), "INSERT INTO sweep_runs SELECT r.id, r.arm, w.name FROM runs r JOIN sweeps w ON w.id = "
                             "r.sweep_id");
    } else {
        Statement add(store.db(), "INSERT INTO sweep_runs VALUES (?, ?, ?)");
        for (const auto& [id, t] : *runs) {
            add.bind(1, id).bind_or_null(2, t->arm).bind(3, name);
            add.step();
            add.reset();
        }
    }
    if (query_only) exec_sql(store.db(), "PRAGMA query_only=1");
}

} // namespace

void empty_sweep_runs(Store& store) {
    const std::map<int64_t, const PlannedTrial*> none;
    fill_sweep_runs(store, &none, "");
}

// A verdict counts only the sweep's trials as written, so runs of an older config of the sweep or
// of another profile in the same database are not pooled in.
std::optional<std::set<int64_t>> share_sweep_runs(Store& store, const std::string& sweep, const SweepVariant& variant,
                                                  size_t* trials, OtherSeeds* other_seeds) {
    auto plan = plan_of(sweep, variant);
    if (!plan) {
        fill_sweep_runs(store, nullptr, "");
        return std::nullopt;
    }
    if (trials) *trials = plan->trials.size();
    auto runs = runs_by_key(store, *plan);
    fill_sweep_runs(store, &runs, plan->name);
    std::set<int64_t> ids;
    for (const auto& [id, t] : runs)
        ids.insert(id);
    if (other_seeds) *other_seeds = runs_at_other_seeds(store, *plan);
    return ids;
}

void share_sweeps_runs(Store& store, const std::vector<std::string>& sweeps, const SweepVariant& variant) {
    std::map<std::string, std::string> file_of; // [sweep] name -> the file that named it first
    for (size_t i = 0; i < sweeps.size(); ++i) {
        auto plan = plan_of(sweeps[i], variant);
        if (!plan) throw UserError(sweeps[i] + ": cannot be planned here (above), so its trials are not known");
        if (auto [it, fresh] = file_of.emplace(plan->name, sweeps[i]); !fresh)
            throw UserError(fmt::format("{} and {} are both sweep '{}': sweep_runs.sweep could not tell their rows "
                                        "apart; query them one at a time",
                                        it->second, sweeps[i], plan->name));
        auto runs = runs_by_key(store, *plan);
        fill_sweep_runs(store, &runs, plan->name, i == 0);
    }
}

std::string other_seeds_note(const OtherSeeds& other_seeds) {
    if (other_seeds.runs.empty()) return "";
    size_t runs = 0;
    std::set<int64_t> other, all(other_seeds.planned.begin(), other_seeds.planned.end());
    for (const auto& [seed, n] : other_seeds.runs) {
        runs += n;
        other.insert(seed);
        all.insert(seed);
    }
    // seeds = N plans 0..N-1; any other set is written as a list.
    const bool first_n = *all.begin() == 0 && *all.rbegin() == int64_t(all.size()) - 1;
    std::string list;
    for (int64_t s : all)
        list += (list.empty() ? "" : ", ") + std::to_string(s);
    return fmt::format("the database also holds {} finished run(s) of these trials at seed(s) the sweep as written "
                       "does not plan ({}), left out here; `--set {}` plans them too",
                       runs, number_ranges(other),
                       first_n ? "sweep.seeds=" + std::to_string(all.size()) : "'sweep.seeds=[" + list + "]'");
}

std::string other_variants(Store& store, const std::string& sweep_name, const SweepVariant& variant) {
    // Every `iclr run` records its sweep text and profile (a row each), whether its trials ran then or
    // were found done under another sweep that shares them: runs.sweep_id names only the first.
    Statement st(store.db(), "SELECT DISTINCT profile, source FROM sweeps WHERE name = ?1");
    st.bind(1, sweep_name);
    std::set<std::string> flags;
    while (st.step())
        if (std::string f = recorded_variant(st.col_text(0), st.col_text(1)).flags(); f != variant.flags())
            flags.insert(f.empty() ? "no --profile or --set" : f.substr(1));
    std::string list;
    for (const std::string& f : flags)
        list += (list.empty() ? "" : "; ") + f;
    return list;
}

std::string other_variants_note(Store& store, const std::string& sweep_name, const SweepVariant& variant,
                                const std::string& verb) {
    std::string other = other_variants(store, sweep_name, variant);
    return other.empty() ? ""
                         : "the database holds runs of " + sweep_name + " with " + other + ": pass the same flags to " +
                               verb + " those";
}

std::string unrun_reason(Store& store, const std::string& db_path, const std::string& sweep_name,
                         const SweepVariant& variant) {
    std::string other = other_variants(store, sweep_name, variant);
    return other.empty()
               ? "none of whose trials has run in " + db_path
               : "none of whose trials as given has run in " + db_path + ", which holds runs of them with " + other;
}

std::map<std::string, int64_t> runs_by_config(Store& store) {
    Statement st(store.db(),
                 "SELECT id, config_toml FROM runs ORDER BY status IN ('done', 'diverged'), finished_at, id");
    std::map<std::string, int64_t> out;
    while (st.step())
        out[config_without_versions(st.col_text(1))] = st.col_int(0);
    return out;
}

std::map<std::pair<std::string, int64_t>, int64_t>
runs_by_place(Store& store, const std::string& name, const std::string& source_sha256, const std::string& profile) {
    // Finished rows last, then by finish time: the last row a place sees is the one it keeps.
    Statement st(store.db(), "SELECT r.id, COALESCE(r.arm, ''), r.trial_index FROM runs r JOIN sweeps w ON w.id = "
                             "r.sweep_id WHERE w.name = ?1 AND w.source_sha256 = ?2 AND COALESCE(w.profile, '') = ?3 "
                             "ORDER BY r.status IN ('done', 'diverged'), r.finished_at, r.id");
    st.bind(1, name).bind(2, source_sha256).bind(3, profile);
    std::map<std::pair<std::string, int64_t>, int64_t> out;
    while (st.step())
        out[{st.col_text(1), st.col_int(2)}] = st.col_int(0);
    return out;
}

std::optional<TrialRuns> share_trial_runs(Store& other, const std::string& sweep, const SweepVariant& variant) {
    auto plan = plan_of(sweep, variant);
    if (!plan) {
        fill_sweep_runs(other, nullptr, "");
        return std::nullopt;
    }
    auto runs = runs_by_key(other, *plan);
    TrialRuns out;
    if (runs.size() < plan->trials.size()) { // other plugin versions: the same plugins, parameters and seed
        auto with = runs_by_config(other);
        out.by_config = add_runs(*plan, runs, [&](const PlannedTrial& t) {
            auto it = with.find(config_without_versions(t.config_toml));
            return it == with.end() ? int64_t(0) : it->second;
        });
    }
    if (runs.size() < plan->trials.size()) { // a version that added or dropped a parameter
        RunsBySharedParams shared(other);
        out.by_shared_params = add_runs(*plan, runs, [&](const PlannedTrial& t) {
            return shared.find(t.config_toml, plan->registry, &out.left_out);
        });
    }
    if (runs.size() < plan->trials.size()) { // a version that changed a default, say: the same place
        auto at = runs_by_place(other, plan->name, plan->source_sha256, variant.profile);
        out.by_place = add_runs(*plan, runs, [&](const PlannedTrial& t) {
            auto it = at.find({t.arm, int64_t(t.index)});
            return it == at.end() ? int64_t(0) : it->second;
        });
    }
    fill_sweep_runs(other, &runs, plan->name);
    for (const auto& [id, t] : runs)
        out.key_of[id] = t->key;
    return out;
}

} // namespace iclr
