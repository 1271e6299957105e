// `iclr verify SWEEP --against OTHER.db`: each claim's verdict in two databases of one sweep, side by side.
#include "cli/verdict_compare.hpp"

#include <map>
#include <optional>
#include <set>

#include <fmt/core.h>

#include "cli/claim_check.hpp"
#include "cli/runs_by_shared_params.hpp"
#include "cli/sweep_runs.hpp"
#include "cli/verify_sweep.hpp"
#include "store/query.hpp"

namespace iclr {
namespace {

// What the sweep's finished runs in one database were computed with: the settings that move a
// verdict without a line of the sweep changing (the kernels and builds the README's reruns found).
struct Setting {
    std::string db;
    int64_t runs = 0;
    std::map<std::string, int64_t> kernels, builds;
    std::map<std::string, std::set<std::string>> plugin_builds; // "finetune 0.6.0" -> SHA-256 prefixes
};

constexpr const char* kFinished = " FROM runs r JOIN sweep_runs s ON s.id = r.id ";
constexpr const char* kDone = " r.status IN ('done', 'diverged') ";

std::map<std::string, int64_t> counts(Store& store, const std::string& sql) {
    std::map<std::string, int64_t> out;
    for (const auto& row : run_query(store, sql, true).rows)
        out[row[0]] = std::strtoll(row[1].c_str(), nullptr, 10);
    return out;
}

Setting setting_of(Store& store, const std::string& db) {
    Setting s;
    s.db = db;
    s.kernels = counts(store, std::string("SELECT COALESCE(NULLIF(r.kernels, ''), 'not recorded'), COUNT(*)") +
                                  kFinished + "WHERE" + kDone + "GROUP BY 1");
    s.builds = counts(store, std::string("SELECT COALESCE(NULLIF(w.iclr_version, ''), 'not recorded'), COUNT(*)") +
                                 kFinished + "JOIN sweeps w ON w.id = r.sweep_id WHERE" + kDone + "GROUP BY 1");
    for (const auto& [build, n] : s.builds) // every finished run has one build (or 'not recorded')
        s.runs += n;
    ResultSet rs = run_query(store,
                             std::string("SELECT json_extract(j.value, '$.name') || ' ' || json_extract(j.value, "
                                         "'$.version'), substr(json_extract(j.value, '$.sha256'), 1, 8)") +
                                 kFinished + ", json_each(r.plugins_json) j WHERE" + kDone + "GROUP BY 1, 2",
                             true);
    for (const auto& row : rs.rows)
        s.plugin_builds[row[0]].insert(row[1]);
    return s;
}

std::string in_words(const std::map<std::string, int64_t>& m, const char* how) {
    std::string out;
    for (const auto& [what, n] : m)
        out += fmt::format("{}{} {} '{}'", out.empty() ? "" : "; ", n, how, what);
    return out.empty() ? "-" : out;
}

std::string joined(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s)
        out += (out.empty() ? "" : ", ") + x;
    return out;
}

// Each plugin's versions among a database's finished runs: "noop" -> {"1.1.0"}.
std::map<std::string, std::set<std::string>> versions_of(const Setting& s) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [plugin, shas] : s.plugin_builds) // "name version"
        if (auto space = plugin.rfind(' '); space != std::string::npos)
            out[plugin.substr(0, space)].insert(plugin.substr(space + 1));
    return out;
}

// A line per database, then the plugins of other versions, or of the same versions built
// otherwise, in one than in the other. `planned`: the sweep's trials as written (the same for
// both: one sweep file, one set of plugins); `trial_runs`: how the other database's runs of them
// run with other plugin versions were found (share_trial_runs).
std::vector<std::string> setting_lines(const Setting& here, const Setting& there, size_t planned,
                                       const std::optional<TrialRuns>& trial_runs) {
    std::vector<std::string> out;
    for (const auto* s : {&here, &there})
        out.push_back(s->runs == 0
                          ? fmt::format("{}: {}: no finished run of the sweep as written (its runs may be of "
                                        "another --profile or --set, or of another text of the sweep file)",
                                        s == &here ? "this database" : "against", s->db)
                          : fmt::format("{}: {}: {} of the {} trial(s) of the sweep as written finished; kernels: "
                                        "{}; iclr: {}",
                                        s == &here ? "this database" : "against", s->db, s->runs, planned,
                                        in_words(s->kernels, "on"), in_words(s->builds, "by")));
    if (trial_runs && trial_runs->by_config > 0)
        out.back() += fmt::format("; {} of its runs stand for their trials by their plugins, parameters and seed: "
                                  "the same trials run with other plugin versions",
                                  trial_runs->by_config);
    if (trial_runs && trial_runs->by_shared_params > 0)
        out.back() += fmt::format("; {} of its runs stand for their trials {}: the same trials run with {}",
                                  trial_runs->by_shared_params, by_shared_params_words(trial_runs->left_out),
                                  by_shared_params_reason(trial_runs->left_out));
    if (trial_runs && trial_runs->by_place > 0)
        out.back() += fmt::format("; {} of its runs stand for their trials by their place in the sweep (arm, "
                                  "grid index): the same sweep text run with other plugin versions",
                                  trial_runs->by_place);
    auto versions_here = versions_of(here), versions_there = versions_of(there);
    std::string versions;
    for (const auto& [plugin, v] : versions_here)
        if (auto it = versions_there.find(plugin); it != versions_there.end() && it->second != v)
            versions += fmt::format("{}{} (this database {}, against {})", versions.empty() ? "" : "; ", plugin,
                                    joined(v), joined(it->second));
    if (!versions.empty()) out.push_back("plugin versions that differ: " + versions);
    std::string differ;
    for (const auto& [plugin, shas] : here.plugin_builds)
        if (auto it = there.plugin_builds.find(plugin); it != there.plugin_builds.end() && it->second != shas)
            differ += fmt::format("{}{} (this database {}, against {})", differ.empty() ? "" : "; ", plugin,
                                  joined(shas), joined(it->second));
    if (!differ.empty()) out.push_back("plugin builds that differ: " + differ);
    return out;
}

// The cells of one verdict: verdict, estimate, interval.
std::vector<std::string> cells(const claims::Verdict& v) {
    if (v.outcome == claims::Outcome::NoData) return {"no data", "-", "-"};
    return {claims::to_string(v.outcome), four_digits(v.estimate),
            "[" + four_digits(v.ci_low) + ", " + four_digits(v.ci_high) + "]"};
}

// The other database's verdicts of the claims verify selected, in their order; its notes to
// stderr where they are not this database's (verify prints those).
std::vector<ClaimVerdict> verdicts_there(Store& other, const VerifyOptions& o, const SweepSpec& spec,
                                         const std::vector<ClaimVerdict>& here,
                                         const std::optional<std::set<int64_t>>& current) {
    std::map<const ClaimSpec*, const ResultSet*> rows;
    std::vector<Checked> checked = run_queries(other, spec);
    for (const auto& c : checked)
        rows[c.claim] = &c.rows;
    std::vector<ClaimVerdict> out;
    for (const auto& h : here) {
        out.push_back(evaluate_claim(other, *h.claim, *rows.at(h.claim), current, o.sweep));
        if (!out.back().note.empty() && out.back().note != h.note)
            fmt::print(stderr, "iclr verify: note (against {}): {}claim '{}': {}\n", o.against, sweep_prefix(o),
                       h.claim->name, out.back().note);
    }
    return out;
}

// Every run's key, by id: what pairs a row here with the other database's row of the same trial.
// `trial_key`: the key of the trial as planned here that a run of the other database stands for
// (another plugin version's run has another key).
std::map<std::string, std::string> run_keys(Store& store, const std::map<int64_t, std::string>& trial_key = {}) {
    std::map<std::string, std::string> out;
    for (const auto& row : run_query(store, "SELECT id, key FROM runs", true).rows)
        out[row[0]] = row[1];
    for (const auto& [id, key] : trial_key)
        out[std::to_string(id)] = key;
    return out;
}

// A row's trial: its run's key (and its base run's, for a paired row), its group (group = "metric"
// gives a run a row per metric), and which of that trial's rows it is, in query order (a per-task
// metric gives a trial several). Not x, which may be a measured value that moved.
std::vector<std::string> trial_of_rows(const ResultSet& rs, const std::map<std::string, std::string>& keys) {
    const int run = column(rs, {"run_id"}), base = column(rs, {"base_run_id"}), grp = column(rs, {"grp", "arm"});
    std::map<std::string, int> seen;
    std::vector<std::string> out;
    for (const auto& row : rs.rows) {
        auto key = [&](int col) {
            auto it = col < 0 ? keys.end() : keys.find(row[size_t(col)]);
            return it == keys.end() ? std::string("-") : it->second;
        };
        std::string trial = key(run) + "/" + key(base) + "/" + (grp < 0 ? "" : row[size_t(grp)]);
        out.push_back(trial + "#" + std::to_string(seen[trial]++));
    }
    return out;
}

// --rows with --against: each claim's rows here and there, paired by trial, with both values.
void print_paired_rows(Store& store, Store& other, const std::optional<TrialRuns>& trial_runs,
                       const std::vector<ClaimVerdict>& here, const std::vector<ClaimVerdict>& there, Format f) {
    static const std::map<int64_t, std::string> none;
    auto keys_here = run_keys(store), keys_there = run_keys(other, trial_runs ? trial_runs->key_of : none);
    for (size_t i = 0; i < here.size(); ++i) {
        const ResultSet &a = here[i].rows, &b = there[i].rows;
        const int va = column(a, {"value"}), vb = column(b, {"value"});
        std::map<std::string, size_t> in_b; // trial -> row of b
        auto tb = trial_of_rows(b, keys_there);
        for (size_t r = 0; r < tb.size(); ++r)
            in_b[tb[r]] = r;
        ResultSet out;
        for (size_t c = 0; c < a.columns.size(); ++c)
            if (int(c) != va) out.columns.push_back(a.columns[c]);
        for (const char* name : {"against run_id", "value", "against value", "difference"})
            out.columns.push_back(name);
        const int run_b = column(b, {"run_id"});
        size_t differ = 0, unpaired = b.rows.size();
        auto ta = trial_of_rows(a, keys_here);
        for (size_t r = 0; r < a.rows.size(); ++r) {
            std::vector<std::string> row;
            for (size_t c = 0; c < a.columns.size(); ++c)
                if (int(c) != va) row.push_back(a.rows[r][c]);
            auto it = in_b.find(ta[r]);
            const std::string x = va < 0 ? "" : a.rows[r][size_t(va)];
            const std::string y = it == in_b.end() || vb < 0 ? "-" : b.rows[it->second][size_t(vb)];
            const bool paired = it != in_b.end() && y != "-" && !x.empty();
            unpaired -= it != in_b.end();
            const double d = paired ? std::strtod(x.c_str(), nullptr) - std::strtod(y.c_str(), nullptr) : 0;
            differ += !(paired && (x == y || d == 0)); // the same text: two NaNs are the same too
            row.insert(row.end(), {it == in_b.end() || run_b < 0 ? "-" : b.rows[it->second][size_t(run_b)], x, y,
                                   paired ? four_digits(d) : "-"});
            out.rows.push_back(std::move(row));
            out.is_null.emplace_back(out.columns.size(), false);
            out.is_number.emplace_back(out.columns.size(), false);
        }
        fmt::print("\nrows of claim '{}', paired by trial ({} here, {} against; {} differ{}):\n{}", here[i].claim->name,
                   a.rows.size(), b.rows.size(), differ,
                   unpaired ? fmt::format(", {} of the other database's have no trial here", unpaired) : "",
                   render(out, f));
    }
}

} // namespace

size_t compare_verdicts(Store& store, const VerifyOptions& o, const SweepSpec& spec,
                        const std::vector<ClaimVerdict>& here, size_t planned, Format f) {
    auto other = Store::open_read(o.against);
    auto trial_runs = share_trial_runs(*other, o.sweep, o.variant);
    std::optional<std::set<int64_t>> current;
    if (trial_runs) {
        current.emplace();
        for (const auto& [id, key] : trial_runs->key_of)
            current->insert(id);
    }
    std::vector<ClaimVerdict> there = verdicts_there(*other, o, spec, here, current);
    ResultSet t;
    t.columns = {"claim",          "verdict",         "estimate",      "95% CI", "against verdict", "against estimate",
                 "against 95% CI", "estimate change", "verdict change"};
    size_t differ = 0;
    for (size_t i = 0; i < here.size(); ++i) {
        const claims::Verdict &a = here[i].verdict, &b = there[i].verdict;
        const bool both = a.outcome != claims::Outcome::NoData && b.outcome != claims::Outcome::NoData;
        const bool moved = a.outcome != b.outcome;
        differ += moved;
        std::vector<std::string> row{here[i].claim->name};
        for (const auto* v : {&a, &b})
            for (auto& cell : cells(*v))
                row.push_back(std::move(cell));
        row.push_back(both ? four_digits(a.estimate - b.estimate) : "-");
        row.push_back(moved ? std::string(claims::to_string(b.outcome)) + " -> " + claims::to_string(a.outcome) : "-");
        t.rows.push_back(std::move(row));
        t.is_null.emplace_back(t.columns.size(), false);
        t.is_number.push_back({false, false, a.outcome != claims::Outcome::NoData, false, false,
                               b.outcome != claims::Outcome::NoData, false, both, false});
    }
    const bool prose = f == Format::Table || f == Format::Markdown; // csv and json: the table alone
    if (prose)
        for (const auto& line :
             setting_lines(setting_of(store, o.common.db_path()), setting_of(*other, o.against), planned, trial_runs))
            fmt::print("{}\n{}", line, f == Format::Markdown ? "\n" : "");
    fmt::print("{}", render(t, f));
    if (prose)
        fmt::print("{}{}\n", f == Format::Markdown ? "\n" : "",
                   differ ? fmt::format("{} of {} verdict(s) differ", differ, here.size())
                          : fmt::format("the {} verdict(s) are the same in both", here.size()));
    if (o.rows) print_paired_rows(store, *other, trial_runs, here, there, f);
    return differ;
}

} // namespace iclr
