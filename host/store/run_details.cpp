// Reads one run, its plugins, attributes and final metrics for `iclr show` and `iclr diff`.
#include "store/run_details.hpp"

#include <cstdlib>
#include <limits>

namespace iclr {
namespace {

void read_row(Statement& st, RunDetails& d) {
    auto text = [&](int i) { return st.col_null(i) ? std::string() : st.col_text(i); };
    d.id = st.col_int(0);
    // The text columns in the SELECT's order, git_dirty (an integer) between the two lists.
    std::string* before_dirty[] = {&d.key,         &d.status,     &d.sweep,         &d.sweep_id,   &d.dataset,
                                   &d.model,       &d.method,     &d.seed,          &d.created_at, &d.started_at,
                                   &d.finished_at, &d.duration_s, &d.attempts,      &d.worker_pid, &d.host,
                                   &d.threads,     &d.device,     &d.torch_version, &d.git_commit};
    std::string* after_dirty[] = {&d.config_toml, &d.plugins_json,  &d.error,         &d.log_tail,     &d.exit_code,
                                  &d.signal,      &d.diverged_step, &d.sweep_profile, &d.sweep_source, &d.arm,
                                  &d.kernels,     &d.iclr_build,    &d.sweep_file};
    int col = 1;
    for (std::string* f : before_dirty)
        *f = text(col++);
    d.git_dirty = st.col_null(col) ? -1 : int(st.col_int(col));
    ++col;
    for (std::string* f : after_dirty)
        *f = text(col++);
}

} // namespace

std::optional<RunDetails> load_run_details(Store& store, const std::string& id_or_key) {
    sqlite3* db = store.db();
    Statement st(
        db,
        "SELECT r.id, r.key, r.status, s.name, r.sweep_id, r.dataset, r.model, r.method, r.seed, r.created_at, "
        "r.started_at, r.finished_at, r.duration_s, r.attempts, r.worker_pid, r.host, r.threads, r.device, "
        "r.torch_version, r.git_commit, r.git_dirty, r.config_toml, r.plugins_json, r.error, r.log_tail, "
        "r.exit_code, r.signal, r.diverged_step, s.profile, s.source, r.arm, r.kernels, s.iclr_version, s.file "
        "FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?1 OR r.key LIKE ?2 || '%' ORDER BY r.id LIMIT 2");
    char* end = nullptr;
    long long id = std::strtoll(id_or_key.c_str(), &end, 10);
    st.bind(1, int64_t(end && *end == 0 ? id : -1)).bind(2, id_or_key.size() >= 6 ? id_or_key : std::string("\x01"));
    if (!st.step()) return std::nullopt;
    RunDetails d;
    read_row(st, d);

    Statement j(db, "SELECT attempt FROM journal_ingests WHERE run_id = ?");
    j.bind(1, d.id);
    if (j.step()) d.slurm_attempt = j.col_text(0);
    Statement attrs(db, "SELECT key, value FROM attributes WHERE run_id = ? ORDER BY key");
    attrs.bind(1, d.id);
    while (attrs.step())
        d.attributes.emplace_back(attrs.col_text(0), attrs.col_text(1));
    Statement m(db, "SELECT key, task, step, value, nonfinite FROM final_metrics WHERE run_id = ? "
                    "ORDER BY key, task LIMIT 200");
    m.bind(1, d.id);
    while (m.step())
        d.final_metrics.push_back({m.col_text(0), m.col_null(1) ? std::nullopt : std::optional<int64_t>(m.col_int(1)),
                                   m.col_int(2), m.col_double(3), m.col_null(4) ? std::string() : m.col_text(4)});
    Statement pl(db,
                 "SELECT j.key, json_extract(j.value, '$.name'), json_extract(j.value, '$.version'), "
                 "json_extract(j.value, '$.file'), json_extract(j.value, '$.sha256'), json_extract(j.value, '$.git'), "
                 "json_extract(j.value, '$.git_dirty') "
                 "FROM runs r, json_each(r.plugins_json) j WHERE r.id = ? AND json_valid(r.plugins_json) "
                 "ORDER BY j.key");
    pl.bind(1, d.id);
    while (pl.step()) {
        auto text = [&](int i) { return pl.col_null(i) ? std::string() : pl.col_text(i); };
        d.plugins.push_back(
            {text(0), text(1), text(2), text(3), text(4), text(5), pl.col_null(6) ? -1 : int(pl.col_int(6))});
    }
    Statement n(db, "SELECT COUNT(*) FROM metrics WHERE run_id = ?");
    n.bind(1, d.id);
    n.step();
    d.metric_rows = n.col_int(0);
    return d;
}

std::vector<RecordedMetric> load_metric_rows(Store& store, int64_t run) {
    Statement st(store.db(), "SELECT key, task, step, value, nonfinite FROM metrics WHERE run_id = ? ORDER BY rowid");
    st.bind(1, run);
    std::vector<RecordedMetric> rows;
    while (st.step()) {
        // A non-finite value is NULL beside its spelling, which strtod reads back: nan, inf, -inf.
        double value = !st.col_null(4)  ? std::strtod(st.col_text(4).c_str(), nullptr)
                       : st.col_null(3) ? std::numeric_limits<double>::quiet_NaN()
                                        : st.col_double(3);
        rows.push_back({st.col_text(0), st.col_null(1) ? std::nullopt : std::optional<int64_t>(st.col_int(1)),
                        st.col_int(2), value});
    }
    return rows;
}

} // namespace iclr
