// The report's data, read with fixed SQL over a temporary table of its runs (declared plots go
// through the read-only query path, as `iclr query` does).
#include "report/gather.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "common/results_layout.hpp"
#include "report/figures.hpp"
#include "store/query.hpp"
#include "store/sql_stats.hpp"
#include "store/sqlite_util.hpp"

namespace iclr::report {
namespace {

constexpr int64_t kMaxCurveSteps = 400; // per learning curve; longer ones are thinned
constexpr int kMaxDefaultKeys = 4;      // learning curves, final metrics
constexpr int64_t kMaxFailures = 50, kMaxQueryRows = 200;
constexpr int64_t kMaxAxisValues = 50; // a default figure's x axis

// The report's runs in a TEMP table, each with the arm this sweep gives it: the sweep's trials as
// written from sweep_runs (which the CLI fills first, cli/claim_check.hpp), or when the sweep cannot
// be planned here every run of a sweep of its name, with runs.arm. The connection is read-only (its
// main database cannot be written at all) and query_only, which also guards TEMP: lifted only while
// the table is filled.
void select_runs(Store& store, const SweepSpec& spec, const std::optional<std::set<int64_t>>& current) {
    exec_sql(store.db(), "PRAGMA query_only=0; CREATE TEMP TABLE IF NOT EXISTS report_runs(id INTEGER PRIMARY KEY, "
                         "arm TEXT); DELETE FROM report_runs;");
    try {
        if (current) {
            exec_sql(store.db(), "INSERT INTO report_runs(id, arm) SELECT id, arm FROM sweep_runs");
        } else {
            Statement ins(store.db(), "INSERT INTO report_runs(id, arm) SELECT r.id, r.arm FROM runs r JOIN sweeps s "
                                      "ON s.id = r.sweep_id WHERE s.name = ? GROUP BY r.id");
            ins.bind(1, spec.name);
            ins.run();
        }
    } catch (...) {
        exec_sql(store.db(), "PRAGMA query_only=1;");
        throw;
    }
    exec_sql(store.db(), "PRAGMA query_only=1;");
}

Table statuses(Store& store) {
    Statement st(store.db(),
                 "SELECT r.status AS status, COUNT(*) AS runs FROM runs r JOIN report_runs t ON t.id = r.id "
                 "GROUP BY r.status ORDER BY COUNT(*) DESC");
    return {"runs by status", "", result_of(st, true)};
}

// What made the results: commits, plugin builds, libtorch, hosts, dates, each with its run count.
Table provenance(Store& store) {
    Statement st(store.db(), R"SQL(
WITH r AS (SELECT runs.* FROM runs JOIN report_runs t ON t.id = runs.id)
SELECT 'git commit' AS what, COALESCE(git_commit, '?') || CASE git_dirty WHEN 1 THEN ' (dirty)' ELSE '' END AS value,
       COUNT(*) AS runs
  FROM r GROUP BY 2
UNION ALL
SELECT 'iclr build', COALESCE(s.iclr_version, '?'), COUNT(*) FROM r JOIN sweeps s ON s.id = r.sweep_id GROUP BY 2
UNION ALL
SELECT 'plugin ' || j.key, json_extract(j.value, '$.name') || ' ' || json_extract(j.value, '$.version') || ' '
       || substr(json_extract(j.value, '$.sha256'), 1, 12), COUNT(*)
  FROM r, json_each(r.plugins_json) j WHERE json_valid(r.plugins_json) GROUP BY 1, 2
UNION ALL
SELECT 'libtorch', COALESCE(torch_version, '?'), COUNT(*) FROM r GROUP BY 2
UNION ALL
SELECT 'kernels', COALESCE(kernels, '?'), COUNT(*) FROM r GROUP BY 2
UNION ALL
SELECT 'host', COALESCE(host, '?'), COUNT(*) FROM r GROUP BY 2
UNION ALL
SELECT 'first created', MIN(created_at), COUNT(*) FROM r
UNION ALL
SELECT 'last finished', MAX(finished_at), COUNT(finished_at) FROM r
)SQL");
    return {"provenance", "", result_of(st, true)};
}

Table failures(Store& store) {
    Statement st(store.db(),
                 "SELECT r.id AS run, r.status AS status, COALESCE(t.arm, '') AS arm, r.seed AS seed, "
                 "COALESCE(r.error, '') AS error, substr(COALESCE(r.log_tail, ''), -600) AS \"log tail\" "
                 "FROM runs r JOIN report_runs t ON t.id = r.id "
                 "WHERE r.status IN ('failed', 'timeout', 'diverged', 'interrupted') ORDER BY r.id LIMIT ?");
    st.bind(1, kMaxFailures + 1);
    ResultSet rs = result_of(st, true);
    std::string note = rs.rows.empty() ? "No run failed, timed out, diverged or was interrupted." : "";
    if (int64_t(rs.rows.size()) > kMaxFailures) {
        rs.rows.pop_back();
        rs.is_null.pop_back();
        rs.is_number.pop_back();
        note = "The first " + std::to_string(kMaxFailures) + " shown: `iclr query` has the rest.";
    }
    return {"failures", note, std::move(rs)};
}

// Means and 95% intervals from SQL sums (n, sum, sum of squares) of columns 3-5 of each row.
ResultSet from_sums(Statement& st) {
    ResultSet out = aggregated();
    while (st.step()) {
        double n = st.col_double(2), sum = st.col_double(3), sum2 = st.col_double(4), mean = sum / n;
        double var = n > 1 ? std::max(0.0, (sum2 - n * mean * mean) / (n - 1)) : 0.0;
        int x_type = sqlite3_column_type(st.raw(), 0);
        add_point(out, st.col_text(0), x_type == SQLITE_INTEGER || x_type == SQLITE_FLOAT, st.col_text(1), "", n, mean,
                  var);
    }
    return out;
}

// Learning curves: every metric logged at more than one step, mean over each arm's runs per step.
void learning_curves(Store& store, std::vector<Figure>& out) {
    // Keys some run logged at two or more steps (a metric measured once per run is no curve).
    Statement keys(store.db(), "SELECT key, MAX(steps) FROM (SELECT m.key, COUNT(DISTINCT m.step) AS steps FROM "
                               "metrics m JOIN report_runs t ON t.id = m.run_id WHERE m.value IS NOT NULL GROUP BY "
                               "m.run_id, m.key) GROUP BY key HAVING MAX(steps) > 1 ORDER BY key LIMIT ?");
    keys.bind(1, int64_t(kMaxDefaultKeys));
    std::vector<std::pair<std::string, int64_t>> found;
    while (keys.step())
        found.emplace_back(keys.col_text(0), keys.col_int(1));
    for (const auto& [key, steps] : found) {
        int64_t every = (steps + kMaxCurveSteps - 1) / kMaxCurveSteps;
        Statement st(store.db(),
                     "SELECT m.step, COALESCE(t.arm, ''), COUNT(*), SUM(m.value), SUM(m.value * m.value) "
                     "FROM metrics m JOIN report_runs t ON t.id = m.run_id "
                     "WHERE m.key = ? AND m.value IS NOT NULL AND m.step % ? = 0 GROUP BY 1, 2 ORDER BY 2, 1");
        st.bind(1, key).bind(2, every);
        PlotSpec p;
        p.title = key + " during training";
        p.x = "step";
        p.y = key;
        p.color = "arm";
        out.push_back(aggregated_figure(p, from_sums(st)));
        out.back().caption = "mean and 95% interval over each arm's runs" +
                             std::string(every > 1 ? ", every " + std::to_string(every) + "th step" : "");
    }
}

// Final metrics by the first swept parameter with at most kMaxAxisValues values among the runs
// (a 10,000-value range is no x axis to read), else by arm.
void final_metrics(Store& store, const SweepSpec& spec, std::vector<Figure>& out) {
    std::string axis;
    for (const auto& a : spec.axes) {
        Statement has(store.db(), "SELECT COUNT(DISTINCT p.value) FROM params p JOIN report_runs t ON t.id = p.run_id "
                                  "WHERE p.key = ?");
        has.bind(1, a.label);
        if (has.step() && has.col_int(0) > 0 && has.col_int(0) <= kMaxAxisValues) {
            axis = a.label;
            break;
        }
    }
    Statement keys(store.db(), "SELECT f.key FROM final_metrics f JOIN report_runs t ON t.id = f.run_id WHERE f.task "
                               "IS NULL AND f.value IS NOT NULL GROUP BY f.key ORDER BY f.key LIMIT ?");
    keys.bind(1, int64_t(kMaxDefaultKeys));
    std::vector<std::string> found;
    while (keys.step())
        found.push_back(keys.col_text(0));
    for (const auto& key : found) {
        std::string x =
            axis.empty() ? "COALESCE(t.arm, '')" : "(SELECT value FROM params WHERE run_id = f.run_id AND key = ?2)";
        Statement st(store.db(), "SELECT " + x +
                                     ", COALESCE(t.arm, ''), COUNT(*), SUM(f.value), SUM(f.value * f.value) "
                                     "FROM final_metrics f JOIN report_runs t ON t.id = f.run_id "
                                     "WHERE f.key = ?1 AND f.task IS NULL AND f.value IS NOT NULL GROUP BY 1, 2 "
                                     "ORDER BY 1, 2");
        st.bind(1, key);
        if (!axis.empty()) st.bind(2, axis);
        PlotSpec p;
        p.title = key + (axis.empty() ? " by arm" : " by " + axis);
        p.x = axis.empty() ? "arm" : axis;
        p.y = key;
        p.color = "arm";
        p.mark = axis.empty() ? "bar" : "line";
        out.push_back(aggregated_figure(p, from_sums(st)));
        out.back().caption = "final value, mean and 95% interval over runs";
    }
}

Figure declared_plot(Store& store, const PlotSpec& p, const std::optional<std::set<int64_t>>& current) {
    return plot_figure(p, plot_rows(store, p, current));
}

// results/queries/<sweep name>*.sql beside the database: each run read-only, its first rows shown.
std::vector<Table> saved_queries(Store& store, const SweepSpec& spec, const std::string& db_path) {
    std::vector<Table> out;
    std::error_code ec;
    auto dir = ResultsLayout(db_path).queries_dir();
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".sql" && e.path().filename().string().rfind(spec.name, 0) == 0)
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f);
        std::stringstream text;
        text << in.rdbuf();
        Table t{"query " + f.filename().string(), "", {}};
        try {
            t.rows = run_query(store, text.str(), true);
            if (int64_t(t.rows.rows.size()) > kMaxQueryRows) {
                t.rows.rows.resize(size_t(kMaxQueryRows));
                t.rows.is_null.resize(size_t(kMaxQueryRows));
                t.rows.is_number.resize(size_t(kMaxQueryRows));
                t.note = "The first " + std::to_string(kMaxQueryRows) + " rows.";
            }
        } catch (const UserError& e) {
            t.note = std::string("The query failed: ") + e.what();
        }
        out.push_back(std::move(t));
    }
    return out;
}

} // namespace

Report gather(Store& store, const SweepSpec& spec, const std::string& db_path,
              const std::optional<std::set<int64_t>>& current) {
    select_runs(store, spec, current);
    Report r;
    r.sweep_name = spec.name;
    r.description = spec.description;
    r.sweep_file = spec.file;
    r.flags = spec.variant.flags();
    r.db_path = db_path;
    r.generated_at = now_iso();
    Statement n(store.db(), "SELECT COUNT(*) FROM report_runs");
    n.step();
    r.runs = n.col_int(0);
    r.statuses = statuses(store);
    r.provenance = provenance(store);
    for (const auto& p : spec.plots)
        r.figures.push_back(declared_plot(store, p, current));
    if (spec.plots.empty()) {
        r.default_figures = true;
        learning_curves(store, r.figures);
        final_metrics(store, spec, r.figures);
    }
    r.queries = saved_queries(store, spec, db_path);
    r.failures = failures(store);
    return r;
}

ResultSet plot_rows(Store& store, const PlotSpec& p, const std::optional<std::set<int64_t>>& current) {
    ResultSet rs;
    try {
        rs = rows_of_runs(run_query(store, p.sql, true), current);
    } catch (const UserError& e) {
        throw SweepError({{p.sql_pos, "plot '" + p.title + "': " + e.what()}});
    }
    for (const std::string* c : {&p.x, &p.y, &p.color, &p.facet})
        if (!c->empty() && std::find(rs.columns.begin(), rs.columns.end(), *c) == rs.columns.end())
            throw SweepError({{p.sql_pos, "plot '" + p.title + "': the query has no column '" + *c + "'"}});
    return rs;
}

} // namespace iclr::report
