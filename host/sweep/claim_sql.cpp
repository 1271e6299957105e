// The query a [[claim]] written with metric = "..." stands for: a row per finished run, its final
// value of the metric, the run's seed, and the group or x the kind needs (with group = "metric", a
// row per run for each of the two metrics a and b).
#include <cmath>
#include <optional>

#include "common/values.hpp"
#include "sweep/claim.hpp"

namespace iclr {
namespace {

std::string sql_string(const std::string& s) { return quote_doubling(s, '\''); }

// Floats as the shortest text that reads back as the same double: the params table holds the
// exact value each trial ran with, and `=` must find it.
std::string literal(const Value& v) {
    if (v.type == Value::Type::String) return sql_string(v.s);
    if (v.type == Value::Type::Bool) return v.b ? "1" : "0"; // the params table holds a bool as 0 / 1
    return value_to_toml(v);
}

std::string one_of(const std::string& expr, const std::vector<Value>& values) {
    std::string s = expr + " IN (";
    for (size_t i = 0; i < values.size(); ++i)
        s += (i ? ", " : "") + literal(values[i]);
    return s + ")";
}

std::string condition(const std::string& expr, const ClaimFilter& w) {
    if (w.op == "in") return one_of(expr, w.values);
    if (w.op == "at") // over the trials of the sweep as written: verify and report fill sweep_runs
        return expr + " = (SELECT " + (w.values.at(0).s == "max" ? "MAX" : "MIN") +
               "(p.value) FROM params p JOIN sweep_runs s ON s.id = p.run_id WHERE p.key = " + sql_string(w.key) + ")";
    const char* op = w.op == "ne"   ? " <> "
                     : w.op == "lt" ? " < "
                     : w.op == "le" ? " <= "
                     : w.op == "gt" ? " > "
                     : w.op == "ge" ? " >= "
                                    : " = ";
    return expr + op + literal(w.values.at(0));
}

// A group's a or b as the params table may hold it: the text as written, and when it reads as a
// TOML number or bool also that typed value ("64" finds an int 64 or a float 64.0, "1e-2" 0.01,
// "true" a bool's 1). The same reading as the claim check's (claim_keys.cpp), which has refused a
// value that is not of the parameter's type.
std::vector<Value> stored_forms(const std::string& text) {
    std::vector<Value> forms{Value::of_string(text)};
    std::optional<Value> v = value_from_literal(text);
    if (v && (v->type == Value::Type::Int || v->type == Value::Type::Bool ||
              (v->type == Value::Type::Float && std::isfinite(v->f))))
        forms.push_back(*v);
    return forms;
}

// where = { "method.lr" = { argmax = "avg_accuracy" } }: the runs at the tuned value of each cell of
// the sweep's finished trials (sweep_runs): a cell is the runs of one arm and plugins whose other
// parameters are all alike (seeds apart), so every arm, width or group is tuned on its own, whatever
// else `where` keeps. The value chosen is the one whose runs' mean of the metric (over seeds, and
// tasks for a per-task metric) is highest (argmin: lowest); ties go to the smaller value. A value
// with a diverged run is never chosen: the mean of the runs that survived would flatter it. Several
// tuned keys are tuned together: their values as one tuple. An arm whose plugin lacks the key (NULL)
// has one value to choose, and keeps its runs.
std::string tuned_condition(const std::vector<const ClaimFilter*>& tuned) {
    const std::string sep = " || char(31) || ";
    std::string keys, value, joins;
    for (size_t i = 0; i < tuned.size(); ++i) {
        const std::string t = "t" + std::to_string(i), key = sql_string(tuned[i]->key);
        keys += (i ? ", " : "") + key;
        joins += "\n    LEFT JOIN params " + t + " ON " + t + ".run_id = s.id AND " + t + ".key = " + key;
        value += (i ? sep : "") + (tuned.size() == 1 ? t + ".value" : "quote(" + t + ".value)");
    }
    const std::string cell =
        "COALESCE(s.arm, '')" + sep + "COALESCE(c.dataset, '')" + sep + "COALESCE(c.model, '')" + sep +
        "COALESCE(c.method, '')" + sep + "COALESCE((SELECT group_concat(k, char(31)) FROM (SELECT p.key || '=' || " +
        "quote(p.value) AS k FROM params p WHERE p.run_id = s.id AND p.key NOT IN (" + keys + ") ORDER BY p.key)), '')";
    const char* better = tuned.front()->op == "argmax" ? ">" : "<";
    // With seeds = [...], only those seeds' runs rank the values (the claim then measures the rest).
    const std::string seeds = tuned.front()->tune_seeds_text();
    const std::string ranks = seeds.empty() ? "1" : "c.seed IN (" + seeds + ")";
    return "r.id IN (\n  WITH cand AS (SELECT s.id, " + cell + " AS cell, " + value +
           " AS v, c.status = 'done' AS ok, fs.value AS score, " + ranks +
           " AS ranks\n    FROM sweep_runs s JOIN runs c ON c.id = s.id AND "
           "c.status IN ('done', 'diverged')" +
           joins + "\n    LEFT JOIN final_metrics fs ON fs.run_id = s.id AND fs.key = " +
           sql_string(tuned.front()->values.at(0).s) +
           "),\n  score AS (SELECT cell, v, AVG(score) AS m FROM cand WHERE ranks GROUP BY cell, v HAVING MIN(ok) = 1 "
           "AND "
           "COUNT(score) > 0),\n  best AS (SELECT cell, v FROM score a WHERE NOT EXISTS (SELECT 1 FROM score b WHERE "
           "b.cell = a.cell AND (b.m " +
           better +
           " a.m OR (b.m = a.m AND b.v < a.v))))\n  SELECT cand.id FROM cand JOIN best ON best.cell = "
           "cand.cell AND best.v IS cand.v)";
}

// A parameter group's column: the claim's own a or b for a run whose value is one of its forms,
// so that rows are labelled as the claim wrote them (and verify's groups are found by that text).
std::string parameter_group(const std::string& value, const ClaimSpec& c, std::string& cond) {
    std::string label = "CASE", all;
    for (const std::string* g : {&c.a, &c.b}) {
        std::vector<Value> forms = stored_forms(*g);
        label += " WHEN " + one_of(value, forms) + " THEN " + literal(Value::of_string(*g));
        for (const Value& f : forms)
            all += (all.empty() ? "" : ", ") + literal(f);
    }
    cond = value + " IN (" + all + ")";
    return label + " END";
}

} // namespace

std::string ClaimFilter::tune_seeds_text() const {
    std::string out;
    for (int64_t seed : tune_seeds)
        out += (out.empty() ? "" : ", ") + std::to_string(seed);
    return out;
}

bool is_claim_run_column(const std::string& key) {
    return key == "arm" || key == "dataset" || key == "model" || key == "method";
}

std::string claim_sql(const ClaimSpec& c) {
    std::string joins, conds;
    auto param = [&](const std::string& alias, const std::string& key) {
        joins +=
            "\nJOIN params " + alias + " ON " + alias + ".run_id = r.id AND " + alias + ".key = " + sql_string(key);
        return alias + ".value";
    };
    // A run column the claim names; the arm is the sweep's own (sweep_runs.arm, which verify and
    // the report fill): runs.arm is the arm of the sweep that recorded the run, another sweep's for
    // a trial two sweeps share. A run that is no trial of the sweep as written keeps runs.arm, so
    // that its rows come back and verify says it left them out.
    bool arm_joined = false;
    auto run_column = [&](const std::string& key) {
        if (key != "arm") return "r." + key;
        if (!arm_joined) joins += "\nLEFT JOIN sweep_runs sa ON sa.id = r.id";
        arm_joined = true;
        return std::string("COALESCE(sa.arm, r.arm)");
    };
    std::string cols = "r.id AS run_id, r.seed";
    std::string key = " = " + sql_string(c.metric);
    if (c.group_is_metric()) { // a row per run and metric, labelled by its key
        key = " IN (" + sql_string(c.a) + ", " + sql_string(c.b) + ")";
        cols += ", f.key AS grp";
    } else if (!c.a.empty()) {
        std::string g = c.group.empty() ? "arm" : c.group, cond;
        std::string grp = is_claim_run_column(g) ? run_column(g) : parameter_group(param("g", g), c, cond);
        cols += ", " + grp + " AS grp";
        conds += "\n  AND " + (cond.empty() ? one_of(grp, {Value::of_string(c.a), Value::of_string(c.b)}) : cond);
    }
    if (c.x_is_metric) { // the same task's row as the value's (NULL for a run-level metric)
        joins +=
            "\nJOIN final_metrics fx ON fx.run_id = r.id AND fx.key = " + sql_string(c.x) + " AND fx.task IS f.task";
        cols += ", fx.value AS x";
    } else if (c.x_is_attribute()) {
        joins += "\nJOIN attributes px ON px.run_id = r.id AND px.key = " + sql_string(c.x); // attributes are text
        cols += ", CAST(px.value AS REAL) AS x";
    } else if (!c.x.empty()) {
        cols += ", " + param("px", c.x) + " AS x";
    }
    int n = 0;
    std::vector<const ClaimFilter*> tuned;
    for (const ClaimFilter& w : c.where) {
        if (w.is_tuned()) { // its value a column of its own (NULL where the plugin lacks it): --rows shows it
            tuned.push_back(&w);
            const std::string t = "w" + std::to_string(++n);
            joins += "\nLEFT JOIN params " + t + " ON " + t + ".run_id = r.id AND " + t + ".key = " + sql_string(w.key);
            cols += ", " + t + ".value AS " + quote_doubling(w.key, '"');
            continue;
        }
        std::string e = is_claim_run_column(w.key) ? run_column(w.key) : param("w" + std::to_string(++n), w.key);
        conds += "\n  AND " + condition(e, w);
    }
    if (!tuned.empty()) conds += "\n  AND " + tuned_condition(tuned);
    if (!tuned.empty() && !tuned.front()->tune_seeds.empty()) // the seeds that chose are not measured
        conds += "\n  AND r.seed NOT IN (" + tuned.front()->tune_seeds_text() + ")";
    std::string task = c.task ? " AND f.task = " + std::to_string(*c.task) : "";
    return "SELECT " + cols + ", f.value\nFROM runs r\nJOIN final_metrics f ON f.run_id = r.id AND f.key" + key + task +
           joins + "\nWHERE r.status = 'done'" + conds;
}

} // namespace iclr
