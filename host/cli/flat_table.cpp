// A sweep's runs as one flat table: one SELECT built from what the database holds (flat_table.hpp).
#include "cli/flat_table.hpp"

#include <optional>
#include <set>

#include "common/values.hpp"
#include "store/query.hpp"

namespace iclr {
namespace {

std::string sql_text(const std::string& s) { return quote_doubling(s, '\''); }
std::string sql_name(const std::string& s) { return quote_doubling(s, '"'); }

// A GROUP BY's condition: `expr` differs between the sweep's `runs` runs, or some have no row.
std::string varies(const std::string& expr, size_t runs) {
    return "COUNT(DISTINCT quote(" + expr + ")) > 1 OR COUNT(*) < " + std::to_string(runs);
}

// The first column of a query over the sweep's runs, as text.
std::vector<std::string> first_column(Store& store, const std::string& sql) {
    std::vector<std::string> out;
    ResultSet rs = run_query(store, sql, true);
    for (const auto& row : rs.rows)
        out.push_back(row[0]);
    return out;
}

// The parameters the sweep as written states, in any arm ("method.buffer_size"): its sections'
// keys and axes. None when the file no longer parses (its runs are then shown as they are).
std::optional<std::set<std::string>> stated_keys(const std::string& sweep, const SweepVariant& variant) {
    try {
        std::set<std::string> out;
        for (const auto& arm : parse_arms(sweep, variant)) {
            for (const auto& sec : arm.sections)
                for (const auto& [key, value] : sec.fixed)
                    out.insert(sec.label + "." + key);
            for (const auto& axis : arm.axes)
                out.insert(axis.label);
        }
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Keys of `table` among the sweep's runs worth a column: with `all` every one; else those whose
// value differs between the runs that have it, and those some runs lack (an arm's own plugin) when
// the sweep states them or `stated` is unknown. A key only one arm's plugin has, left at its
// default by the sweep, says no more than that plugin's column. Cache keys never.
std::vector<std::string> varying_keys(Store& store, const std::string& table, bool all, size_t runs,
                                      const std::optional<std::set<std::string>>& stated) {
    std::string lacked = "COUNT(*) < " + std::to_string(runs);
    if (stated) {
        std::string in;
        for (const auto& k : *stated)
            in += (in.empty() ? "" : ", ") + sql_text(k);
        lacked += " AND t.key IN (" + in + ")";
    }
    return first_column(store, "SELECT t.key FROM " + table +
                                   " t JOIN sweep_runs s ON s.id = t.run_id WHERE t.key NOT LIKE '%cache%' GROUP BY "
                                   "t.key HAVING " +
                                   (all ? "1" : "COUNT(DISTINCT quote(t.value)) > 1 OR (" + lacked + ")") +
                                   " ORDER BY t.key");
}

struct MetricColumn {
    std::string key, task; // task "" = the run's value, not a task's
};

std::vector<MetricColumn> metric_columns(Store& store, bool per_task) {
    ResultSet rs = run_query(store,
                             "SELECT f.key, f.task FROM final_metrics f JOIN sweep_runs s ON s.id = f.run_id " +
                                 std::string(per_task ? "" : "WHERE f.task IS NULL ") +
                                 "GROUP BY f.key, f.task ORDER BY f.key, f.task",
                             true);
    std::vector<MetricColumn> out;
    for (size_t i = 0; i < rs.rows.size(); ++i)
        out.push_back({rs.rows[i][0], rs.is_null[i][1] ? "" : rs.rows[i][1]});
    return out;
}

// One SELECT: the run's own columns, then a correlated lookup per parameter, attribute and metric
// (each by its table's (run_id, key) index), ordered by arm, the varying parameters and seed.
std::string table_sql(Store& store, const FlatTableOptions& o, size_t runs,
                      const std::optional<std::set<std::string>>& stated) {
    // The sweep's own arm (sweep_runs.arm): a run two sweeps share has the recording sweep's in runs.arm.
    bool arms = first_column(store, "SELECT COUNT(*) FROM sweep_runs WHERE arm <> ''")[0] != "0";
    std::string cols = "r.id AS run_id" + std::string(arms ? ", s.arm" : "") + ", r.status, r.seed";
    // Each section's plugin (the arms of a sweep may differ in any: [pretrain] too), by its label.
    for (const auto& label : first_column(
             store, "SELECT j.key FROM runs r JOIN sweep_runs s ON s.id = r.id, "
                    "json_each(r.plugins_json) j WHERE json_valid(r.plugins_json) "
                    "GROUP BY j.key HAVING " +
                        (o.all_params ? "1" : varies("json_extract(j.value, '$.name')", runs)) + " ORDER BY j.key"))
        cols += ", json_extract(r.plugins_json, " + sql_text("$.\"" + label + "\".name") + ") AS " + sql_name(label);
    std::string order = arms ? "s.arm, " : "";
    for (const auto& k : varying_keys(store, "params", o.all_params, runs, stated)) {
        std::string where = " FROM params p WHERE p.run_id = r.id AND p.key = " + sql_text(k) + ")";
        cols += ", (SELECT " + param_text_sql("p") + where + " AS " + sql_name(k);
        order += "(SELECT p.value" + where + ", "; // ordered by the stored value
    }
    for (const auto& k : varying_keys(store, "attributes", o.all_params, runs, stated))
        cols += ", (SELECT value FROM attributes WHERE run_id = r.id AND key = " + sql_text(k) + ") AS " + sql_name(k);
    for (const auto& m : metric_columns(store, o.per_task))
        cols +=
            ", (SELECT COALESCE(nonfinite, value) FROM final_metrics WHERE run_id = r.id AND key = " + sql_text(m.key) +
            " AND task " + (m.task.empty() ? "IS NULL" : "= " + m.task) + ") AS " +
            sql_name(m.task.empty() ? m.key : m.key + "[" + m.task + "]");
    return "SELECT " + cols + " FROM runs r JOIN sweep_runs s ON s.id = r.id ORDER BY " + order + "r.seed, r.id";
}

} // namespace

size_t sweep_run_count(Store& store) {
    return std::stoull(first_column(store, "SELECT COUNT(*) FROM sweep_runs s JOIN runs r ON r.id = s.id")[0]);
}

std::string flat_table_sql(Store& store, const std::string& file, const SweepVariant& variant,
                           const FlatTableOptions& o) {
    return table_sql(store, o, sweep_run_count(store), stated_keys(file, variant));
}

} // namespace iclr
