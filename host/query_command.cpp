// `iclr query SQL` and `iclr show RUN`: read-only views of the results database.
#include <filesystem>

#include <fmt/core.h>

#include "commands.hpp"
#include "query.hpp"
#include "store.hpp"

namespace iclr {

int cmd_query(const std::string& sql, const std::string& format, const CommonOptions& c) {
    Format f;
    if (format == "table")
        f = Format::Table;
    else if (format == "csv")
        f = Format::Csv;
    else if (format == "json")
        f = Format::Json;
    else if (format == "markdown" || format == "md")
        f = Format::Markdown;
    else
        throw UserError("unknown --format '" + format + "' (table, csv, json, markdown)");
    auto store = Store::open_read(c.db.empty() ? default_db() : c.db);
    ResultSet rs = run_query(*store, sql, f == Format::Csv || f == Format::Json);
    fmt::print("{}", render(rs, f));
    return 0;
}

int cmd_show(const std::string& run, const CommonOptions& c) {
    auto store = Store::open_read(c.db.empty() ? default_db() : c.db);
    sqlite3* db = store->db();
    Statement st(
        db, "SELECT r.id, r.key, r.status, s.name, r.sweep_id, r.dataset, r.model, r.method, r.seed, r.created_at, "
            "r.started_at, r.finished_at, r.duration_s, r.attempts, r.worker_pid, r.host, r.threads, r.device, "
            "r.torch_version, r.git_commit, r.git_dirty, r.config_toml, r.plugins_json, r.error, r.log_tail, "
            "r.exit_code, r.signal FROM runs r JOIN sweeps s ON s.id = r.sweep_id "
            "WHERE r.id = ?1 OR r.key LIKE ?2 || '%' ORDER BY r.id LIMIT 2");
    char* end = nullptr;
    long long id = std::strtoll(run.c_str(), &end, 10);
    st.bind(1, int64_t(end && *end == 0 ? id : -1)).bind(2, run.size() >= 6 ? run : std::string("\x01"));
    if (!st.step())
        throw UserError("no run '" + run + "' in " + store->path() +
                        " (give a run id or a key prefix of 6+ characters)");
    int64_t rid = st.col_int(0);
    auto text = [&](int i) { return st.col_null(i) ? std::string("-") : st.col_text(i); };
    fmt::print("run {}  {}  sweep {} (#{})  key {}\n", rid, text(2), text(3), text(4), text(1));
    fmt::print("dataset {}  model {}  method {}  seed {}\n", text(5), text(6), text(7), text(8));
    fmt::print("created {}  started {}  finished {}  duration {}s  attempts {}\n", text(9), text(10), text(11),
               text(12), text(13));
    fmt::print("worker pid {} on {}  threads {}  device {}  libtorch {}\n", text(14), text(15), text(16), text(17),
               text(18));
    fmt::print("git {}{}\n", text(19), st.col_null(20) ? "" : (st.col_int(20) ? " (dirty)" : " (clean)"));
    if (!st.col_null(25) || !st.col_null(26)) fmt::print("worker exit code {}  signal {}\n", text(25), text(26));
    if (!st.col_null(23)) fmt::print("error: {}\n", text(23));
    fmt::print("\nplugins: {}\n\nconfig:\n{}\n", text(22), text(21));
    std::string log_tail = st.col_null(24) ? "" : st.col_text(24);

    Statement attrs(db, "SELECT key, value FROM attributes WHERE run_id = ? ORDER BY key");
    attrs.bind(1, rid);
    bool any = false;
    while (attrs.step()) {
        if (!any) fmt::print("attributes:\n");
        any = true;
        fmt::print("  {} = {}\n", attrs.col_text(0), attrs.col_text(1));
    }
    Statement m(db, "SELECT key, task, step, value FROM final_metrics WHERE run_id = ? ORDER BY key, task LIMIT 200");
    m.bind(1, rid);
    any = false;
    while (m.step()) {
        if (!any) fmt::print("final metrics (key, task, step, value):\n");
        any = true;
        fmt::print("  {:<28} {:>4} {:>8}  {:.6g}\n", m.col_text(0), m.col_null(1) ? "-" : std::to_string(m.col_int(1)),
                   m.col_int(2), m.col_double(3));
    }
    Statement n(db, "SELECT COUNT(*) FROM metrics WHERE run_id = ?");
    n.bind(1, rid);
    n.step();
    fmt::print("metric rows: {}\n", n.col_int(0));
    if (!log_tail.empty()) fmt::print("\nlog tail:\n{}", log_tail);
    // The whole log, where `iclr run` wrote it next to this database.
    std::filesystem::path db_path(store->path());
    auto full = db_path.parent_path() / "logs" / db_path.stem() / ("run-" + std::to_string(rid) + ".log");
    std::error_code ec;
    if (std::filesystem::exists(full, ec)) fmt::print("full log: {}\n", full.string());
    return 0;
}

} // namespace iclr
