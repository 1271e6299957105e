// `iclr verify SWEEP --against OTHER.db`: each claim's verdict in two databases of one sweep, side by side.
#include "cli/verdict_compare.hpp"

#include <cstdio>
#include <map>
#include <set>

#include <fmt/core.h>

#include "cli/claim_check.hpp"
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
    for (const auto& [k, n] : counts(store, std::string("SELECT 'runs', COUNT(*)") + kFinished + "WHERE" + kDone))
        s.runs = n;
    s.kernels = counts(store, std::string("SELECT COALESCE(NULLIF(r.kernels, ''), 'not recorded'), COUNT(*)") +
                                  kFinished + "WHERE" + kDone + "GROUP BY 1");
    s.builds = counts(store, std::string("SELECT COALESCE(NULLIF(w.iclr_version, ''), 'not recorded'), COUNT(*)") +
                                 kFinished + "JOIN sweeps w ON w.id = r.sweep_id WHERE" + kDone + "GROUP BY 1");
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

// A line per database, then the plugins built otherwise in one than in the other.
std::vector<std::string> setting_lines(const Setting& here, const Setting& there) {
    std::vector<std::string> out;
    for (const auto* s : {&here, &there})
        out.push_back(s->runs == 0
                          ? fmt::format("{}: {}: no finished run of the sweep as written (its runs may be of other "
                                        "plugin versions, or of another --profile or --set)",
                                        s == &here ? "this database" : "against", s->db)
                          : fmt::format("{}: {}: {} finished run(s) of the sweep as written; kernels: {}; iclr: {}",
                                        s == &here ? "this database" : "against", s->db, s->runs,
                                        in_words(s->kernels, "on"), in_words(s->builds, "by")));
    std::string differ;
    for (const auto& [plugin, shas] : here.plugin_builds)
        if (auto it = there.plugin_builds.find(plugin); it != there.plugin_builds.end() && it->second != shas)
            differ += fmt::format("{}{} (this database {}, against {})", differ.empty() ? "" : "; ", plugin,
                                  joined(shas), joined(it->second));
    if (!differ.empty()) out.push_back("plugin builds that differ: " + differ);
    return out;
}

std::string g4(double v) { return fmt::format("{:.4g}", v); }

// The cells of one verdict: verdict, estimate, interval.
std::vector<std::string> cells(const claims::Verdict& v) {
    if (v.outcome == claims::Outcome::NoData) return {"no data", "-", "-"};
    return {claims::to_string(v.outcome), g4(v.estimate), "[" + g4(v.ci_low) + ", " + g4(v.ci_high) + "]"};
}

// The other database's verdicts of the claims verify selected, in their order; its notes to
// stderr where they are not this database's (`notes`, verify prints those).
std::vector<claims::Verdict> verdicts_there(Store& other, const VerifyOptions& o, const SweepSpec& spec,
                                            const std::vector<std::pair<const ClaimSpec*, claims::Verdict>>& here,
                                            const std::vector<std::string>& notes) {
    auto current = share_sweep_runs(other, o.sweep, o.variant);
    std::map<const ClaimSpec*, const ResultSet*> rows;
    std::vector<Checked> checked = run_queries(other, spec);
    for (const auto& c : checked)
        rows[c.claim] = &c.rows;
    std::vector<claims::Verdict> out;
    for (size_t i = 0; i < here.size(); ++i) {
        const ClaimSpec* c = here[i].first;
        ClaimVerdict cv = evaluate_claim(other, *c, *rows.at(c), current, o.sweep);
        if (!cv.note.empty() && cv.note != notes[i])
            std::fprintf(stderr, "iclr verify: note (against %s): claim '%s': %s\n", o.against.c_str(), c->name.c_str(),
                         cv.note.c_str());
        out.push_back(cv.verdict);
    }
    return out;
}

} // namespace

size_t compare_verdicts(Store& store, const VerifyOptions& o, const SweepSpec& spec,
                        const std::vector<std::pair<const ClaimSpec*, claims::Verdict>>& here,
                        const std::vector<std::string>& notes, Format f) {
    auto other = Store::open_read(o.against);
    std::vector<claims::Verdict> there = verdicts_there(*other, o, spec, here, notes);
    ResultSet t;
    t.columns = {"claim",          "verdict",         "estimate",      "95% CI", "against verdict", "against estimate",
                 "against 95% CI", "estimate change", "verdict change"};
    size_t differ = 0;
    for (size_t i = 0; i < here.size(); ++i) {
        const claims::Verdict &a = here[i].second, &b = there[i];
        const bool both = a.outcome != claims::Outcome::NoData && b.outcome != claims::Outcome::NoData;
        const bool moved = a.outcome != b.outcome;
        differ += moved;
        std::vector<std::string> row{here[i].first->name};
        for (const auto* v : {&a, &b})
            for (auto& cell : cells(*v))
                row.push_back(std::move(cell));
        row.push_back(both ? g4(a.estimate - b.estimate) : "-");
        row.push_back(moved ? std::string(claims::to_string(b.outcome)) + " -> " + claims::to_string(a.outcome) : "-");
        t.rows.push_back(std::move(row));
        t.is_null.emplace_back(t.columns.size(), false);
        t.is_number.push_back({false, false, a.outcome != claims::Outcome::NoData, false, false,
                               b.outcome != claims::Outcome::NoData, false, both, false});
    }
    const bool prose = f == Format::Table || f == Format::Markdown; // csv and json: the table alone
    if (prose)
        for (const auto& line : setting_lines(setting_of(store, o.common.db_path()), setting_of(*other, o.against)))
            fmt::print("{}\n{}", line, f == Format::Markdown ? "\n" : "");
    fmt::print("{}", render(t, f));
    if (prose)
        fmt::print("{}{}\n", f == Format::Markdown ? "\n" : "",
                   differ ? fmt::format("{} of {} verdict(s) differ", differ, here.size())
                          : fmt::format("the {} verdict(s) are the same in both", here.size()));
    return differ;
}

} // namespace iclr
