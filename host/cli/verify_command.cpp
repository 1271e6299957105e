// `iclr verify SWEEP`: runs each [[claim]]'s query, computes its verdict, prints and records it.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/core.h>

#include "claims/evaluate.hpp"
#include "cli/commands.hpp"
#include "cli/git_state.hpp"
#include "cli/table.hpp"
#include "common/file_hash.hpp"
#include "common/results_layout.hpp"
#include "common/values.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/query.hpp"
#include "store/verdicts.hpp"
#include "sweep/sweep.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/trial.hpp"

namespace iclr {
namespace {

struct Checked {
    const ClaimSpec* claim;
    ResultSet rows;
};

int column(const ResultSet& rs, std::initializer_list<const char*> names) {
    for (const char* n : names)
        for (size_t c = 0; c < rs.columns.size(); ++c)
            if (rs.columns[c] == n) return int(c);
    return -1;
}

// The columns a kind needs, or the problem in words.
std::string missing_columns(const ClaimSpec& c, const ResultSet& rs) {
    std::string have;
    for (const auto& col : rs.columns)
        have += (have.empty() ? "" : ", ") + col;
    auto need = [&](std::initializer_list<const char*> names, const std::string& what) {
        return column(rs, names) < 0 ? "the query has no " + what + " column (its columns: " + have + ")" : "";
    };
    if (auto m = need({"value"}, "value"); !m.empty()) return m;
    if (c.kind == "increasing" || c.kind == "decreasing") return need({"x"}, "x");
    if (!c.a.empty()) return need({"grp", "arm"}, "grp (or arm)");
    return "";
}

// Every claim's SQL is run and its columns checked before any verdict is printed: a bad claim is
// reported with its file:line:column, all of them at once, and nothing is recorded.
std::vector<Checked> run_queries(Store& store, const SweepSpec& spec) {
    std::vector<Checked> out;
    std::vector<Diagnostic> diags;
    for (const auto& c : spec.claims) {
        try {
            ResultSet rs = run_query(store, c.sql, true);
            if (std::string m = missing_columns(c, rs); !m.empty())
                diags.push_back({c.sql_pos, "claim '" + c.name + "': " + m});
            out.push_back({&c, std::move(rs)});
        } catch (const UserError& e) {
            diags.push_back({c.sql_pos, "claim '" + c.name + "': " + e.what()});
        }
    }
    if (!diags.empty()) throw SweepError(diags);
    return out;
}

// The runs that are trials of the sweep as written now (this file, this profile, these plugin
// versions): a verdict counts only them, so runs of an older config of the sweep or of another
// profile in the same database are not pooled in. Empty (no filtering) when the sweep cannot be
// planned here (its plugins are not built), with a note saying so.
std::optional<std::set<int64_t>> current_runs(Store& store, const VerifyOptions& o) {
    std::set<std::string> keys;
    try {
        PluginRegistry reg;
        reg.discover();
        SweepArms arms = load_sweep(o.sweep, o.profile, reg);
        for (uint32_t k = 0; k < arms.specs.size(); ++k)
            arms.expansions[k]->for_each([&](const TrialPoint& p) {
                keys.insert(resolve_trial(arms.specs[k], arms.plugins[k], p).key);
                return true;
            });
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "iclr verify: note: the sweep cannot be planned here (%s); verdicts use every row "
                     "the claims' queries return\n",
                     e.what());
        return std::nullopt;
    }
    std::set<int64_t> ids;
    ResultSet rs = run_query(store, "SELECT id, key FROM runs", true);
    for (const auto& row : rs.rows)
        if (keys.count(row[1])) ids.insert(std::strtoll(row[0].c_str(), nullptr, 10));
    return ids;
}

// A claim's rows as numbers; with `current`, rows of other runs are left out and counted.
std::vector<claims::Row> rows_of(const ResultSet& rs, const std::optional<std::set<int64_t>>& current,
                                 std::vector<int64_t>& run_ids, size_t& left_out) {
    int v = column(rs, {"value"}), x = column(rs, {"x"}), g = column(rs, {"grp", "arm"}), s = column(rs, {"seed"}),
        r = column(rs, {"run_id"});
    std::vector<claims::Row> rows;
    for (size_t i = 0; i < rs.rows.size(); ++i) {
        auto cell = [&](int c) { return c >= 0 && !rs.is_null[i][size_t(c)] ? &rs.rows[i][size_t(c)] : nullptr; };
        if (r >= 0 && cell(r)) {
            int64_t id = std::strtoll(cell(r)->c_str(), nullptr, 10);
            if (current && !current->count(id)) {
                ++left_out;
                continue;
            }
            run_ids.push_back(id);
        }
        if (!cell(v)) continue; // NULL (or NaN) values carry no number to test
        claims::Row row;
        row.value = std::strtod(cell(v)->c_str(), nullptr);
        if (cell(x)) row.x = std::strtod(cell(x)->c_str(), nullptr);
        if (cell(g)) row.group = *cell(g);
        if (cell(s)) row.seed = *cell(s);
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string num(double v) { return fmt::format("{:.4g}", v); }

ResultSet verdict_table(const std::vector<std::pair<const ClaimSpec*, claims::Verdict>>& verdicts) {
    ResultSet out;
    out.columns = {"claim", "kind", "n", "estimate", "95% CI", "verdict", "source"};
    for (const auto& [c, v] : verdicts) {
        bool data = v.outcome != claims::Outcome::NoData;
        std::string what = claims::to_string(v.outcome);
        if (!data) what += " (" + v.reason + ")";
        out.rows.push_back({c->name, c->kind, std::to_string(v.n), data ? num(v.estimate) : "-",
                            data ? "[" + num(v.ci_low) + ", " + num(v.ci_high) + "]" : "-", what, c->source});
        out.is_null.emplace_back(out.columns.size(), false);
        out.is_number.push_back({false, false, true, data, false, false, false});
    }
    return out;
}

} // namespace

int cmd_verify(const VerifyOptions& o) {
    std::vector<SweepSpec> arms = parse_arms(o.sweep, o.profile); // claims are the sweep's, whatever its arms
    const SweepSpec& spec = arms.front();
    Format f = parse_format(o.format);
    if (spec.claims.empty()) {
        fmt::print("{} states no claims ([[claim]] tables)\n", o.sweep);
        return 0;
    }
    std::string db_path = o.common.db_path();
    std::error_code ec;
    if (!std::filesystem::exists(db_path, ec))
        throw UserError(db_path + ": no such database (run the sweep first, or pass --db)");
    auto store = Store::open_write(db_path);
    std::vector<Checked> checked = run_queries(*store, spec);
    auto current = current_runs(*store, o);
    std::vector<std::pair<const ClaimSpec*, claims::Verdict>> verdicts;
    std::vector<std::string> notes;
    for (const auto& [c, rs] : checked) {
        std::vector<int64_t> run_ids;
        size_t left_out = 0;
        auto rows = rows_of(rs, current, run_ids, left_out);
        if (left_out > 0)
            notes.push_back(fmt::format("claim '{}': left out {} row(s) of runs that are not trials of {} as written "
                                        "(another config or profile of it)",
                                        c->name, left_out, o.sweep));
        claims::Verdict v = claims::evaluate({c->kind, c->a, c->b, c->tolerance, c->threshold, c->target}, rows);
        if (rows.empty() && left_out > 0)
            v.reason = fmt::format("no runs of the sweep as written; {} row(s) of another config or profile left out",
                                   left_out);
        bool data = v.outcome != claims::Outcome::NoData;
        record_verdict(*store,
                       {absolute_path(o.sweep), sha256_hex(spec.source_text), c->name, c->source, c->kind, c->sql, v.n,
                        data ? std::optional(v.estimate) : std::nullopt, data ? std::optional(v.ci_low) : std::nullopt,
                        data ? std::optional(v.ci_high) : std::nullopt, claims::to_string(v.outcome), v.reason, run_ids,
                        column(rs, {"run_id"}) >= 0, git_state().commit});
        verdicts.emplace_back(c, v);
    }
    fmt::print("{}", render(verdict_table(verdicts), f));
    for (const auto& n : notes)
        std::fprintf(stderr, "iclr verify: note: %s\n", n.c_str());
    bool all_held = std::all_of(verdicts.begin(), verdicts.end(),
                                [](const auto& p) { return p.second.outcome == claims::Outcome::Held; });
    return o.strict && !all_held ? 1 : 0;
}

} // namespace iclr
