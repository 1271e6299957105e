// `iclr verify SWEEP`: runs each [[claim]]'s query, computes its verdict, prints and records it.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <fmt/core.h>

#include "claims/evaluate.hpp"
#include "cli/commands.hpp"
#include "cli/git_state.hpp"
#include "cli/table.hpp"
#include "common/file_hash.hpp"
#include "common/results_layout.hpp"
#include "common/values.hpp"
#include "store/query.hpp"
#include "store/verdicts.hpp"
#include "sweep/sweep.hpp"

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

std::vector<claims::Row> rows_of(const ResultSet& rs, std::vector<int64_t>& run_ids) {
    int v = column(rs, {"value"}), x = column(rs, {"x"}), g = column(rs, {"grp", "arm"}), s = column(rs, {"seed"}),
        r = column(rs, {"run_id"});
    std::vector<claims::Row> rows;
    for (size_t i = 0; i < rs.rows.size(); ++i) {
        auto cell = [&](int c) { return c >= 0 && !rs.is_null[i][size_t(c)] ? &rs.rows[i][size_t(c)] : nullptr; };
        if (r >= 0 && cell(r)) run_ids.push_back(std::strtoll(cell(r)->c_str(), nullptr, 10));
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
    std::vector<std::pair<const ClaimSpec*, claims::Verdict>> verdicts;
    for (const auto& [c, rs] : checked) {
        std::vector<int64_t> run_ids;
        auto rows = rows_of(rs, run_ids);
        claims::Verdict v = claims::evaluate({c->kind, c->a, c->b, c->tolerance, c->threshold, c->target}, rows);
        bool data = v.outcome != claims::Outcome::NoData;
        record_verdict(*store,
                       {absolute_path(o.sweep), sha256_hex(spec.source_text), c->name, c->source, c->kind, c->sql, v.n,
                        data ? std::optional(v.estimate) : std::nullopt, data ? std::optional(v.ci_low) : std::nullopt,
                        data ? std::optional(v.ci_high) : std::nullopt, claims::to_string(v.outcome), v.reason, run_ids,
                        column(rs, {"run_id"}) >= 0, git_state().commit});
        verdicts.emplace_back(c, v);
    }
    fmt::print("{}", render(verdict_table(verdicts), f));
    bool all_held = std::all_of(verdicts.begin(), verdicts.end(),
                                [](const auto& p) { return p.second.outcome == claims::Outcome::Held; });
    return o.strict && !all_held ? 1 : 0;
}

} // namespace iclr
