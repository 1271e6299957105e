// What `iclr verify` and `iclr report` share: claim queries, the sweep's current trials, claim rows.
#include "cli/claim_check.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

#include <fmt/core.h>

#include "common/errors.hpp"
#include "store/query.hpp"
#include "store/sqlite_util.hpp"
#include "sweep/validate.hpp"

namespace iclr {
namespace {

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

} // namespace

int column(const ResultSet& rs, std::initializer_list<const char*> names) {
    for (const char* n : names)
        for (size_t c = 0; c < rs.columns.size(); ++c)
            if (rs.columns[c] == n) return int(c);
    return -1;
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

// A claim's rows as numbers; with `current`, rows of other runs are left out and counted.
std::vector<claims::Row> rows_of(const ResultSet& all, const std::optional<std::set<int64_t>>& current,
                                 std::vector<int64_t>& run_ids, size_t& left_out) {
    ResultSet rs = rows_of_runs(all, current, &left_out);
    int v = column(rs, {"value"}), x = column(rs, {"x"}), g = column(rs, {"grp", "arm"}), s = column(rs, {"seed"});
    std::vector<claims::Row> rows;
    for (size_t i = 0; i < rs.rows.size(); ++i) {
        auto cell = [&](int c) { return c >= 0 && !rs.is_null[i][size_t(c)] ? &rs.rows[i][size_t(c)] : nullptr; };
        // A paired row (a difference of two runs) names both, an averaged row each of its runs:
        // all are runs the verdict used.
        for (int64_t id : runs_of_row(rs, i))
            run_ids.push_back(id);
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

namespace {

// How many of the runs have each non-NULL value of `sql` (one column, the run id bound to ?).
std::map<std::string, int64_t> count_by(Store& store, const std::string& sql, const std::vector<int64_t>& run_ids) {
    std::set<int64_t> ids(run_ids.begin(), run_ids.end());
    std::map<std::string, int64_t> counts;
    Statement st(store.db(), sql);
    for (int64_t id : ids) {
        st.bind(1, id);
        if (st.step() && !st.col_null(0)) ++counts[st.col_text(0)];
        st.reset();
    }
    return counts;
}

// Why it matters: the same trial on OpenBLAS's SkylakeX and Haswell kernels differs in the last
// bits, and training carries that further (the forgetting sweep's VICReg arms moved by 0.03 between
// two machines); a verdict pooling both compares runs that differ by more than their configs.
std::string mixed_kernels_note(Store& store, const std::vector<int64_t>& run_ids) {
    std::map<std::string, int64_t> sets = count_by(store, "SELECT kernels FROM runs WHERE id = ?", run_ids);
    if (sets.size() < 2) return "";
    std::string each;
    for (const auto& [k, n] : sets)
        each += (each.empty() ? "" : "; ") + std::to_string(n) + " on '" + k + "'";
    return std::to_string(sets.size()) + " sets of CPU kernels among its runs (" + each +
           "): the same trial differs between them in the last bits, and training can carry that further";
}

// Whether any finished run has the key in `table` (final_metrics or attributes); if not, the
// reason in words with the nearest key some run has.
std::string missing_key(Store& store, const std::string& table, const std::string& what, const std::string& key,
                        const std::string& filter, const std::string& for_what) {
    Statement has(store.db(), "SELECT 1 FROM " + table +
                                  " f JOIN runs r ON r.id = f.run_id WHERE f.key = ? AND "
                                  "r.status = 'done'" +
                                  filter + " LIMIT 1");
    has.bind(1, key);
    if (has.step()) return "";
    std::vector<std::string> keys;
    Statement all(store.db(), "SELECT DISTINCT key FROM " + table);
    while (all.step())
        keys.push_back(all.col_text(0));
    return "no finished run has " + what + " '" + key + "'" + for_what + did_you_mean(key, keys);
}

// A sweep resumed after iclr was rebuilt: its runs were made by builds whose host code (data loading,
// evaluation, scheduling) may differ; the note names each so `iclr diff` can compare two runs.
std::string mixed_builds_note(Store& store, const std::vector<int64_t>& run_ids) {
    std::map<std::string, int64_t> builds =
        count_by(store, "SELECT s.iclr_version FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?", run_ids);
    if (builds.size() < 2) return "";
    return std::to_string(builds.size()) + " builds of iclr among its runs (" + builds_in_words(builds) + ")";
}

// A keys claim without task = N whose metric is per task gets a row per task of each run: the
// verdict pools them (each run's tasks count as its values), which may not be what was meant.
std::string pooled_tasks_note(const ClaimSpec& c, const std::vector<int64_t>& run_ids) {
    if (!c.from_keys() || c.task) return "";
    std::map<int64_t, int> per_run;
    int most = 0, metrics = c.group_is_metric() ? 2 : 1; // group = "metric": a row for a and one for b
    for (int64_t id : run_ids)
        most = std::max(most, ++per_run[id]);
    if (most <= metrics) return "";
    return "metric '" + (c.group_is_metric() ? c.a : c.metric) + "' is per task (" + std::to_string(most / metrics) +
           " rows for a run): the verdict pools every task's value; task = N picks one";
}

// A claim with where = { "method.lr" = { argmax = "m" } }: which values the tuning chose for the runs
// the verdict used, since the claim's file names none; and that a choice made on the metric the
// claim measures, over the same seeds, flatters each side it picks for.
std::string tuned_note(Store& store, const ClaimSpec& c, const std::vector<int64_t>& run_ids) {
    std::string keys, names;
    const ClaimFilter* first = nullptr;
    for (const ClaimFilter& w : c.where)
        if (w.is_tuned()) {
            if (!first) first = &w;
            keys += (keys.empty() ? "" : ", ") + quote_doubling(w.key, '\'');
            names += (names.empty() ? "" : " and ") + w.key;
        }
    if (!first || run_ids.empty()) return "";
    auto chosen = count_by(store,
                           "SELECT group_concat(value, ' / ') FROM (SELECT value FROM params WHERE run_id = ? AND "
                           "key IN (" +
                               keys + ") ORDER BY key)",
                           run_ids);
    std::string each;
    for (const auto& [value, n] : chosen)
        each += (each.empty() ? "" : ", ") + value + " in " + std::to_string(n) + " run(s)";
    const std::string& metric = first->values.at(0).s;
    const std::string seeds = first->tune_seeds_text(); // held out: the seeds that chose are not measured
    const bool own =
        seeds.empty() && (metric == (c.group_is_metric() ? c.a : c.metric) || (c.group_is_metric() && metric == c.b));
    return names + " tuned per arm and setting on the " + (first->op == "argmax" ? "highest" : "lowest") + " mean " +
           metric + (seeds.empty() ? "" : " of seeds " + seeds + " (the claim measures the other seeds)") + ": " +
           each +
           (own ? " (chosen on the metric and seeds the claim measures, which flatters each side it picks for)" : "");
}

// A claim over a learning-rate grid whose high rates diverged is decided by the runs that survived.
std::string diverged_note(Store& store, const std::string& sweep) {
    ResultSet rs = run_query(store,
                             "SELECT COUNT(*), (SELECT GROUP_CONCAT(id, ', ') FROM (SELECT r.id FROM runs r JOIN "
                             "sweep_runs s ON s.id = r.id WHERE r.status = 'diverged' ORDER BY r.id LIMIT 20)) FROM "
                             "runs r JOIN sweep_runs s ON s.id = r.id WHERE r.status = 'diverged'",
                             true);
    size_t n = rs.rows.empty() ? 0 : size_t(std::strtoull(rs.rows[0][0].c_str(), nullptr, 10));
    if (n == 0) return "";
    return std::to_string(n) + " trial(s) of " + sweep + " as written diverged (run " + rs.rows[0][1] +
           (n > 20 ? ", ..." : "") + ") and give the claims no value: a verdict rests on the runs that did not";
}

// Whether SQL reads runs.arm (run_summary's is the same): `X.arm` where X names runs or
// run_summary there ("runs r", "runs AS r", the table itself), or a bare `arm` in SQL that joins no
// sweep_runs (then only those can hold it). The word, not a part of one (warmup, arms, farm_id);
// `s.arm` of sweep_runs, the remedy the note names, is not runs.arm.
bool reads_runs_arm(const std::string& text) {
    std::string sql = text;
    std::transform(sql.begin(), sql.end(), sql.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    static const std::regex table_re(R"((^|[^\w.])(runs|run_summary)(\s+as)?(\s+([a-z_]\w*))?)");
    static const std::set<std::string> keywords{"join",  "where", "on",      "left",  "inner", "cross", "group",
                                                "order", "limit", "natural", "using", "union", "having"};
    std::set<std::string> names;
    for (auto it = std::sregex_iterator(sql.begin(), sql.end(), table_re); it != std::sregex_iterator(); ++it) {
        names.insert((*it)[2]);
        if ((*it)[5].matched && !keywords.count((*it)[5])) names.insert((*it)[5]);
    }
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    const bool joins_sweep_runs = sql.find("sweep_runs") != std::string::npos;
    for (size_t at = sql.find("arm"); at != std::string::npos; at = sql.find("arm", at + 1)) {
        if ((at > 0 && word(sql[at - 1])) || (at + 3 < sql.size() && word(sql[at + 3]))) continue;
        if (at > 0 && sql[at - 1] == '.') {
            size_t from = at - 1;
            while (from > 0 && word(sql[from - 1]))
                --from;
            if (names.count(sql.substr(from, at - 1 - from))) return true;
        } else if (!joins_sweep_runs && !(at >= 3 && sql.compare(at - 3, 3, "as ") == 0)) {
            return true;
        }
    }
    return false;
}

// For SQL of the sweep's own that reads runs.arm: "" unless some run's arm there is another sweep's.
std::string shared_arms_note(Store& store, const SweepSpec& spec) {
    std::string readers;
    for (const auto& c : spec.claims)
        if (!c.from_keys() && reads_runs_arm(c.sql))
            readers += (readers.empty() ? "claim '" : ", claim '") + c.name + "'";
    for (const auto& p : spec.plots)
        if (reads_runs_arm(p.sql)) readers += (readers.empty() ? "plot '" : ", plot '") + p.title + "'";
    if (readers.empty()) return "";
    ResultSet rs =
        run_query(store, "SELECT COUNT(*) FROM runs r JOIN sweep_runs s ON s.id = r.id WHERE r.arm IS NOT s.arm", true);
    size_t n = rs.rows.empty() ? 0 : size_t(std::strtoull(rs.rows[0][0].c_str(), nullptr, 10));
    if (n == 0) return "";
    return std::to_string(n) +
           " run(s) of this sweep were recorded by another sweep, whose arm names runs.arm keeps, " +
           "and the SQL of " + readers + " reads an arm: JOIN sweep_runs s ON s.id = r.id and read s.arm, this " +
           "sweep's";
}

} // namespace

std::vector<std::string> claims_notes(Store& store, const std::string& sweep, const SweepSpec& spec) {
    std::vector<std::string> notes;
    for (const std::string& note : {diverged_note(store, sweep), shared_arms_note(store, spec)})
        if (!note.empty()) notes.push_back(note);
    return notes;
}

std::string builds_in_words(const std::map<std::string, int64_t>& runs_by_build) {
    std::string each;
    for (const auto& [b, n] : runs_by_build)
        each += (each.empty() ? "" : "; ") + std::to_string(n) + " by " + (b.empty() ? "a build not recorded" : b);
    return each;
}

void add_note(std::string& notes, const std::string& note) {
    if (!note.empty()) notes += (notes.empty() ? "" : "; ") + note;
}

std::string claim_notes(Store& store, const ClaimSpec& c, const std::vector<int64_t>& run_ids,
                        const claims::Verdict& v) {
    std::string notes;
    for (const std::string& n :
         {tuned_note(store, c, run_ids), mixed_kernels_note(store, run_ids), mixed_builds_note(store, run_ids),
          pooled_tasks_note(c, run_ids), v.exact, claims::inconclusive_note(v)})
        add_note(notes, n);
    return notes;
}

// A metric's key and an attribute as x are the names of a claim written as keys that no schema
// declares (plugins log the keys they like), so a misspelt one is found here, when no finished
// run has it.
std::string missing_key_reason(Store& store, const ClaimSpec& c) {
    if (!c.from_keys()) return "";
    auto metric = [&](const std::string& key) {
        return c.task ? missing_key(store, "final_metrics", "a final metric", key,
                                    " AND f.task = " + std::to_string(*c.task), " for task " + std::to_string(*c.task))
                      : missing_key(store, "final_metrics", "a final metric", key, "", "");
    };
    std::string m = c.group_is_metric() ? metric(c.a) : metric(c.metric);
    if (m.empty() && c.group_is_metric()) m = metric(c.b);
    if (m.empty() && c.x_is_attribute()) m = missing_key(store, "attributes", "an attribute", c.x, "", "");
    // x's row is the value's task's (fx.task IS f.task): with task = N it must exist for task N too.
    if (m.empty() && c.x_is_metric) m = metric(c.x);
    for (const ClaimFilter& w : c.where) // the tuning's metric: without it no value is chosen
        if (m.empty() && w.is_tuned())
            m = missing_key(store, "final_metrics", "a final metric", w.values.at(0).s, "",
                            ", which where's " + w.key + " = { " + w.op + " } ranks by");
    return m;
}

claims::Hypothesis hypothesis_of(const ClaimSpec& c) {
    return {c.kind, c.a, c.b, c.tolerance, c.threshold, c.target, c.binary};
}

// What a claim says of the rows it left out: `at_other_seeds` of them runs of its trials at seeds the
// sweep does not plan, the rest runs of another config, seed or profile.
std::string left_out_note(size_t left_out, size_t at_other_seeds, const std::string& sweep) {
    if (left_out == 0) return "";
    if (at_other_seeds == left_out)
        return fmt::format("left out {} row(s): runs of its trials at seeds that {} as written does not plan", left_out,
                           sweep);
    return fmt::format(
        "left out {} row(s) of runs that are not trials of {} as written (another config, seed or "
        "profile of it{})",
        left_out, sweep,
        at_other_seeds ? fmt::format("; {} of them of its trials at seeds it does not plan", at_other_seeds) : "");
}

ClaimVerdict evaluate_claim(Store& store, const ClaimSpec& c, const ResultSet& rs,
                            const std::optional<std::set<int64_t>>& current, const std::string& sweep,
                            const std::set<int64_t>& at_other_seeds) {
    ClaimVerdict out;
    out.claim = &c;
    size_t left_out = 0;
    auto rows = rows_of(rs, current, out.run_ids, left_out);
    // Rows all of whose runs are such runs: those runs are not in `current`, so they were left out.
    const size_t other_seeds = at_other_seeds.empty() ? 0 : rows_of_runs(rs, at_other_seeds).rows.size();
    out.note = left_out_note(left_out, other_seeds, sweep);
    out.verdict = claims::evaluate(hypothesis_of(c), rows);
    add_note(out.note, claim_notes(store, c, out.run_ids, out.verdict));
    if (rows.empty() && left_out > 0)
        out.verdict.reason = fmt::format(
            "no runs of the sweep as written; {} row(s) of another config, seed or profile left out", left_out);
    else if (std::string m = out.verdict.outcome == claims::Outcome::NoData ? missing_key_reason(store, c) : "";
             !m.empty())
        out.verdict.reason = m;
    out.rows = rows_of_runs(rs, current);
    return out;
}

} // namespace iclr
