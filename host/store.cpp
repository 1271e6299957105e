// Results database implementation: WAL, migrations, batched writes inside host transactions.
#include "store.hpp"

#include <filesystem>

#include "schema.hpp"
#include "values.hpp"

namespace iclr {
namespace fs = std::filesystem;

std::unique_ptr<Store> Store::open_write(const std::string& path) {
    std::error_code ec;
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw HostError(path + ": cannot open database: " + msg);
    }
    std::unique_ptr<Store> s(new Store(db, path));
    sqlite3_busy_timeout(db, 5000);
    try {
        exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        s->migrate();
    } catch (const HostError& e) {
        throw HostError(path + ": " + e.what());
    }
    return s;
}

std::unique_ptr<Store> Store::open_read(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw UserError(path + ": no such database (run a sweep first, or pass --db)");
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw HostError(path + ": cannot open database: " + msg);
    }
    std::unique_ptr<Store> s(new Store(db, path));
    sqlite3_busy_timeout(db, 5000);
    exec_sql(db, "PRAGMA query_only=1;");
    int v = s->version();
    if (v > schema_version())
        throw UserError(path + ": database schema version " + std::to_string(v) +
                        " is newer than this iclr (knows up to " + std::to_string(schema_version()) +
                        "); use a newer iclr");
    return s;
}

Store::~Store() {
    if (in_txn_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    insert_metric_.reset();
    sqlite3_close(db_);
}

int Store::version() const {
    Statement st(db_, "PRAGMA user_version");
    st.step();
    return int(st.col_int(0));
}

void Store::migrate() {
    int v = version();
    int target = schema_version();
    if (v > target)
        throw UserError("database schema version " + std::to_string(v) + " is newer than this iclr (knows up to " +
                        std::to_string(target) + "); use a newer iclr");
    if (v == target) return;
    exec_sql(db_, "BEGIN IMMEDIATE");
    try {
        for (int k = v; k < target; ++k)
            exec_sql(db_, migrations()[size_t(k)]);
        exec_sql(db_, "PRAGMA user_version=" + std::to_string(target));
        exec_sql(db_, "COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void Store::begin() {
    if (in_txn_) return;
    exec_sql(db_, "BEGIN IMMEDIATE");
    in_txn_ = true;
}

void Store::commit() {
    if (!in_txn_) return;
    in_txn_ = false; // a failed COMMIT leaves SQLite to roll back; never retry a half state
    exec_sql(db_, "COMMIT");
}

int64_t Store::add_sweep(const SweepRecord& s) {
    Statement st(db_, "INSERT INTO sweeps(name, file, profile, source, source_sha256, created_at, git_commit, "
                      "git_dirty, host, iclr_version) "
                      "VALUES(?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, s.name).bind(2, s.file).bind(3, s.profile).bind(4, s.source).bind(5, s.source_sha256).bind(6, now_iso());
    st.bind_or_null(7, s.git_commit).bind_flag(8, s.git_dirty);
    st.bind(9, s.host).bind(10, std::string(ICLR_VERSION));
    st.run();
    return sqlite3_last_insert_rowid(db_);
}

std::optional<std::pair<int64_t, std::string>> Store::find_run(const std::string& key) {
    Statement st(db_, "SELECT id, status FROM runs WHERE key = ?");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    return std::make_pair(st.col_int(0), st.col_text(1));
}

int64_t Store::prepare_run(int64_t sweep_id, const ResolvedTrial& t, const std::string& plugins_json,
                           const std::string& git_commit, int git_dirty) {
    std::string dataset, model, method;
    for (const auto& p : t.parts) {
        if (p.section->role == "dataset") dataset = p.plugin->name;
        if (p.section->role == "model") model = p.plugin->name;
        if (p.section->role == "method") method = p.plugin->name;
    }
    int64_t id;
    if (auto existing = find_run(t.key)) {
        id = existing->first;
        Statement del(db_, "DELETE FROM metrics WHERE run_id = ?");
        del.bind(1, id).run();
        Statement del_final(db_, "DELETE FROM final_metrics WHERE run_id = ?");
        del_final.bind(1, id).run();
        Statement del_attr(db_, "DELETE FROM attributes WHERE run_id = ?");
        del_attr.bind(1, id).run();
        Statement del_art(db_, "DELETE FROM artifacts WHERE run_id = ?");
        del_art.bind(1, id).run();
        Statement up(db_, "UPDATE runs SET status='pending', sweep_id=?, plugins_json=?, git_commit=?, git_dirty=?, "
                          "started_at=NULL, finished_at=NULL, duration_s=NULL, exit_code=NULL, signal=NULL, "
                          "error=NULL, log_tail=NULL "
                          "WHERE id=?");
        up.bind(1, sweep_id).bind(2, plugins_json).bind_or_null(3, git_commit).bind_flag(4, git_dirty);
        up.bind(5, id).run();
        return id;
    }
    Statement st(
        db_,
        "INSERT INTO runs(key, sweep_id, trial_index, seed, status, dataset, model, method, config_toml, config_json, "
        "plugins_json, git_commit, git_dirty, created_at) VALUES(?,?,?,?,'pending',?,?,?,?,?,?,?,?,?)");
    st.bind(1, t.key).bind(2, sweep_id).bind(3, int64_t(t.index)).bind(4, t.seed);
    st.bind_or_null(5, dataset).bind_or_null(6, model).bind_or_null(7, method);
    st.bind(8, t.config_toml).bind(9, config_json(t.config_toml)).bind(10, plugins_json);
    st.bind_or_null(11, git_commit).bind_flag(12, git_dirty);
    st.bind(13, now_iso());
    st.run();
    id = sqlite3_last_insert_rowid(db_);
    Statement pst(db_, "INSERT INTO params(run_id, key, type, value) VALUES(?,?,?,?)");
    for (const auto& p : t.parts) {
        for (const auto& [k, v] : p.params.values) {
            pst.bind(1, id).bind(2, p.section->label + "." + k).bind(3, std::string(value_type_name(v.type)));
            switch (v.type) {
            case Value::Type::Int:
                pst.bind(4, v.i);
                break;
            case Value::Type::Float:
                pst.bind(4, v.f);
                break;
            case Value::Type::Bool:
                pst.bind(4, int64_t(v.b));
                break;
            case Value::Type::String:
                pst.bind(4, v.s);
                break;
            case Value::Type::List:
                pst.bind(4, value_to_json(v));
                break;
            }
            pst.run();
        }
    }
    return id;
}

void Store::mark_running(int64_t run, const RunStart& s) {
    Statement st(
        db_,
        "UPDATE runs SET status='running', started_at=?, worker_pid=?, threads=?, device=?, host=?, torch_version=?, "
        "attempts=attempts+1 WHERE id=?");
    st.bind(1, now_iso())
        .bind(2, s.worker_pid)
        .bind(3, int64_t(s.threads))
        .bind(4, s.device)
        .bind(5, s.host)
        .bind(6, s.torch_version)
        .bind(7, run);
    st.run();
}

void Store::finish_run(int64_t run, const RunEnd& e) {
    // The last value of every (key, task), kept as rows so pivots over many runs stay fast.
    Statement clear(db_, "DELETE FROM final_metrics WHERE run_id = ?");
    clear.bind(1, run).run();
    Statement fin(db_, "INSERT INTO final_metrics(run_id, key, task, step, value) "
                       "SELECT run_id, key, task, MAX(step), value FROM metrics WHERE run_id = ? GROUP BY key, task");
    fin.bind(1, run).run();
    Statement st(
        db_,
        "UPDATE runs SET status=?, finished_at=?, duration_s=?, error=?, log_tail=?, exit_code=?, signal=? WHERE id=?");
    st.bind(1, e.status).bind(2, now_iso()).bind(3, e.duration_s);
    st.bind_or_null(4, e.error).bind_or_null(5, e.log_tail);
    st.bind_or_null(6, e.exit_code ? std::optional<int64_t>(*e.exit_code) : std::nullopt);
    st.bind_or_null(7, e.signal ? std::optional<int64_t>(*e.signal) : std::nullopt);
    st.bind(8, run);
    st.run();
}

void Store::add_metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) {
    if (!insert_metric_)
        insert_metric_ =
            std::make_unique<Statement>(db_, "INSERT INTO metrics(run_id, key, step, task, value) VALUES(?,?,?,?,?)");
    Statement& st = *insert_metric_;
    st.bind(1, run).bind(2, key).bind(3, step).bind_or_null(4, task).bind(5, value);
    st.step();
    st.reset();
}

void Store::set_attribute(int64_t run, const std::string& key, const std::string& value) {
    Statement st(db_, "INSERT OR REPLACE INTO attributes(run_id, key, value) VALUES(?,?,?)");
    st.bind(1, run).bind(2, key).bind(3, value).run();
}

void Store::add_artifact(int64_t run, const std::string& name, const std::string& path, int64_t bytes) {
    Statement st(db_, "INSERT INTO artifacts(run_id, name, path, bytes, created_at) VALUES(?,?,?,?,?)");
    st.bind(1, run).bind(2, name).bind(3, path).bind(4, bytes).bind(5, now_iso()).run();
}

int Store::recover_stale_running() {
    exec_sql(
        db_,
        "UPDATE runs SET status='interrupted', error=COALESCE(error, 'the iclr host stopped while this trial ran') "
        "WHERE status='running'");
    return sqlite3_changes(db_);
}

} // namespace iclr
