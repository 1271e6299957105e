// Results database: migrations and the host's batched writes inside transactions (opening: store_open.cpp).
#include "store/store.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/build_info.hpp"
#include "common/values.hpp"
#include "store/schema.hpp"
#include "store/sql_stats.hpp"

namespace iclr {
namespace fs = std::filesystem;

Store::~Store() {
    try {
        flush_metrics();         // also rows added outside a transaction
    } catch (const HostError&) { // a full disk: the rows written before it are still committed
    }
    if (in_txn_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    insert_metric_batch_.reset();
    // At rest the database leaves WAL for a rollback journal: a reader without write access to
    // the folder can then open it without the -shm file it could not create. Fails harmlessly
    // (SQLITE_BUSY) while another connection has it open; that one, or the next, does it.
    // Never waited for: a reader holding the file open must not keep the host from exiting (SQLite
    // refuses the switch at once then; the busy handler is cleared so it stays that way).
    if (writable_) {
        sqlite3_busy_handler(db_, nullptr, nullptr);
        sqlite3_exec(db_, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    }
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
    require_known_version(path_, v);
    if (v == target) return;
    // A migration may rebuild a table other tables reference (SQLite's documented procedure):
    // foreign keys are off while it runs (the pragma is ignored inside a transaction) and checked
    // before the commit.
    register_migration_functions(db_);
    exec_sql(db_, "PRAGMA foreign_keys=OFF");
    exec_sql(db_, "BEGIN IMMEDIATE");
    try {
        for (int k = v; k < target; ++k)
            exec_sql(db_, migrations()[size_t(k)]);
        Statement fk(db_, "PRAGMA foreign_key_check");
        if (fk.step()) throw HostError("migration left a dangling reference in table " + fk.col_text(0));
        exec_sql(db_, "PRAGMA user_version=" + std::to_string(target));
        exec_sql(db_, "COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        exec_sql(db_, "PRAGMA foreign_keys=ON");
        throw;
    }
    exec_sql(db_, "PRAGMA foreign_keys=ON");
}

void Store::begin() {
    if (in_transaction()) return; // else none, or an error rolled it back: begin anew
    exec_sql(db_, "BEGIN IMMEDIATE");
    in_txn_ = true;
}

bool Store::in_transaction() const { return in_txn_ && !sqlite3_get_autocommit(db_); }

void Store::commit() {
    if (!in_txn_) return;
    flush_metrics();
    in_txn_ = false; // a failed COMMIT leaves SQLite to roll back; never retry a half state
    // Already rolled back by an error (a full disk can), which was thrown where it happened.
    if (sqlite3_get_autocommit(db_)) return;
    exec_sql(db_, "COMMIT");
}

int64_t Store::add_sweep(const SweepRecord& s) {
    Statement st(db_, "INSERT INTO sweeps(name, file, profile, source, source_sha256, created_at, git_commit, "
                      "git_dirty, host, iclr_version) "
                      "VALUES(?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, s.name).bind(2, s.file).bind(3, s.profile).bind(4, s.source).bind(5, s.source_sha256).bind(6, now_iso());
    st.bind_or_null(7, s.git_commit).bind_flag(8, s.git_dirty);
    st.bind(9, s.host).bind(10, std::string(iclr_build()));
    st.run();
    return sqlite3_last_insert_rowid(db_);
}

std::optional<ExistingRun> Store::find_run(const std::string& key) {
    Statement st(db_, "SELECT r.id, r.status, r.plugins_json, r.arm, s.iclr_version, s.name, r.sweep_id FROM runs r "
                      "LEFT JOIN sweeps s ON s.id = r.sweep_id WHERE r.key = ?");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    auto status = parse_run_status(st.col_text(1));
    if (!status)
        throw HostError("database: run " + std::to_string(st.col_int(0)) + " has unknown status '" + st.col_text(1) +
                        "'");
    return ExistingRun{st.col_int(0),
                       *status,
                       st.col_text(2),
                       st.col_null(3) ? std::string() : st.col_text(3),
                       st.col_null(4) ? std::string() : st.col_text(4),
                       st.col_null(5) ? std::string() : st.col_text(5),
                       st.col_int(6)};
}

std::optional<std::string> Store::key_rewritten_from(const std::string& old_key) {
    Statement st(db_, "SELECT r.key FROM rekeyed_runs k JOIN runs r ON r.id = k.run_id WHERE k.old_key = ?");
    st.bind(1, old_key);
    if (!st.step()) return std::nullopt;
    return st.col_text(0);
}

int64_t Store::prepare_run(const RunRow& row, const std::optional<ExistingRun>& existing) {
    if (existing) {
        reset_run(existing->id, row);
        return existing->id;
    }
    Statement st(
        db_,
        "INSERT INTO runs(key, sweep_id, trial_index, seed, status, dataset, model, method, config_toml, config_json, "
        "plugins_json, git_commit, git_dirty, created_at, arm) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, row.key).bind(2, row.sweep_id).bind(3, int64_t(row.trial_index)).bind(4, row.seed);
    st.bind(5, std::string(to_string(RunStatus::Pending)));
    st.bind_or_null(6, row.dataset).bind_or_null(7, row.model).bind_or_null(8, row.method);
    st.bind(9, row.config_toml).bind(10, row.config_json).bind(11, row.plugins_json);
    st.bind_or_null(12, row.git_commit).bind_flag(13, row.git_dirty);
    st.bind(14, now_iso()).bind_or_null(15, row.arm);
    st.run();
    int64_t id = sqlite3_last_insert_rowid(db_);
    insert_params(id, row);
    return id;
}

// An unfinished run goes back to pending, without what its earlier attempt recorded, so a
// resumed trial never leaves duplicates.
void Store::reset_run(int64_t id, const RunRow& row) {
    clear_results(id);
    Statement up(db_, "UPDATE runs SET status=?, sweep_id=?, plugins_json=?, git_commit=?, git_dirty=?, "
                      "started_at=NULL, finished_at=NULL, duration_s=NULL, exit_code=NULL, signal=NULL, "
                      "error=NULL, log_tail=NULL, diverged_step=NULL, arm=? "
                      "WHERE id=?");
    up.bind(1, std::string(to_string(RunStatus::Pending))).bind(2, row.sweep_id).bind(3, row.plugins_json);
    up.bind_or_null(4, row.git_commit).bind_flag(5, row.git_dirty).bind_or_null(6, row.arm).bind(7, id).run();
}

void Store::insert_params(int64_t id, const RunRow& row) {
    Statement pst(db_, "INSERT INTO params(run_id, key, type, value) VALUES(?,?,?,?)");
    for (const auto& [key, v] : row.params) {
        pst.bind(1, id).bind(2, key).bind(3, std::string(value_type_name(v.type)));
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

void Store::mark_running(const RunStart& s) {
    Statement st(db_,
                 "UPDATE runs SET status=?, started_at=?, worker_pid=?, threads=?, device=?, host=?, torch_version=?, "
                 "kernels=?, attempts=attempts+1 WHERE id=?");
    st.bind(1, std::string(to_string(RunStatus::Running)))
        .bind(2, s.at.empty() ? now_iso() : s.at)
        .bind(3, s.worker_pid);
    st.bind(4, int64_t(s.threads)).bind(5, s.device).bind(6, s.host).bind(7, s.torch_version);
    st.bind_or_null(8, s.kernels).bind(9, s.run);
    st.run();
}

void Store::set_arm(int64_t run, const std::string& arm) {
    Statement st(db_, "UPDATE runs SET arm = ? WHERE id = ?");
    st.bind_or_null(1, arm).bind(2, run).run();
}

void Store::rollback() {
    pending_metrics_.clear();
    if (!in_txn_) return;
    in_txn_ = false;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Store::finish_run(const RunEnd& e) {
    flush_metrics();
    // The last value of every (key, task), kept as rows so pivots over many runs stay fast.
    Statement clear(db_, "DELETE FROM final_metrics WHERE run_id = ?");
    clear.bind(1, e.run).run();
    Statement fin(db_, "INSERT INTO final_metrics(run_id, key, task, step, value, nonfinite) "
                       "SELECT run_id, key, task, MAX(step), value, nonfinite FROM metrics WHERE run_id = ? "
                       "GROUP BY key, task");
    fin.bind(1, e.run).run();
    Statement st(db_,
                 "UPDATE runs SET status=?, finished_at=?, duration_s=?, error=?, log_tail=?, exit_code=?, signal=?, "
                 "diverged_step=? WHERE id=?");
    st.bind(1, std::string(to_string(e.status))).bind(2, e.at.empty() ? now_iso() : e.at).bind(3, e.duration_s);
    st.bind_or_null(4, e.error).bind_or_null(5, e.log_tail);
    st.bind_or_null(6, e.exit_code ? std::optional<int64_t>(*e.exit_code) : std::nullopt);
    st.bind_or_null(7, e.signal ? std::optional<int64_t>(*e.signal) : std::nullopt);
    st.bind_or_null(8, e.diverged_step);
    st.bind(9, e.run);
    st.run();
}

void Store::add_metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) {
    pending_metrics_.push_back({run, step, key, task, value});
    if (pending_metrics_.size() >= kMetricBatch) flush_metrics();
}

std::unique_ptr<Statement> Store::metric_insert(size_t rows) {
    std::string sql = "INSERT INTO metrics(run_id, key, step, task, value, nonfinite) VALUES(?,?,?,?,?,?)";
    for (size_t i = 1; i < rows; ++i)
        sql += ",(?,?,?,?,?,?)";
    return std::make_unique<Statement>(db_, sql);
}

void Store::bind_metric(Statement& st, int at, const MetricRow& m) {
    st.bind(at + 1, m.run).bind(at + 2, m.key).bind(at + 3, m.step).bind_or_null(at + 4, m.task);
    if (std::isnan(m.value)) // SQLite would store NaN as NULL: keep the NULL, say why
        st.bind_null(at + 5).bind(at + 6, std::string("nan"));
    else if (std::isinf(m.value))
        st.bind(at + 5, m.value).bind(at + 6, std::string(m.value > 0 ? "inf" : "-inf"));
    else
        st.bind(at + 5, m.value).bind_null(at + 6);
}

void Store::flush_metrics() {
    // Full batches through the statement prepared once; a shorter tail (a commit between batches:
    // at most every 250 ms) through one prepared for its length. A statement that fails (a full
    // disk) wrote nothing, so the rows before it leave the buffer and the rest stay: none is written
    // twice by a later flush.
    size_t done = 0;
    try {
        while (done < pending_metrics_.size()) {
            size_t rows = std::min(kMetricBatch, pending_metrics_.size() - done);
            std::unique_ptr<Statement> tail;
            if (rows == kMetricBatch && !insert_metric_batch_) insert_metric_batch_ = metric_insert(rows);
            Statement& st = rows == kMetricBatch ? *insert_metric_batch_ : *(tail = metric_insert(rows));
            for (size_t r = 0; r < rows; ++r)
                bind_metric(st, int(6 * r), pending_metrics_[done + r]);
            st.run();
            done += rows;
        }
    } catch (...) {
        if (in_txn_ && sqlite3_get_autocommit(db_)) {
            // SQLite rolled the whole transaction back, as a full disk can make it do for a statement
            // without a statement journal: the buffered rows were part of it.
            pending_metrics_.clear();
            in_txn_ = false;
        } else {
            pending_metrics_.erase(pending_metrics_.begin(), pending_metrics_.begin() + long(done));
        }
        throw;
    }
    pending_metrics_.clear();
}

void Store::set_attribute(int64_t run, const std::string& key, const std::string& value) {
    Statement st(db_, "INSERT OR REPLACE INTO attributes(run_id, key, value) VALUES(?,?,?)");
    st.bind(1, run).bind(2, key).bind(3, value).run();
}

void Store::add_artifact(int64_t run, const std::string& name, const std::string& path, int64_t bytes) {
    Statement st(db_, "INSERT INTO artifacts(run_id, name, path, bytes, created_at) VALUES(?,?,?,?,?)");
    st.bind(1, run).bind(2, name).bind(3, path).bind(4, bytes).bind(5, now_iso()).run();
}

void Store::clear_results(int64_t id) {
    flush_metrics(); // rows of this run still buffered would otherwise land after the delete
    for (const char* table : {"metrics", "final_metrics", "attributes", "artifacts"}) {
        Statement del(db_, std::string("DELETE FROM ") + table + " WHERE run_id = ?");
        del.bind(1, id).run();
    }
}

std::optional<Store::Ingested> Store::ingested(int64_t run) {
    Statement st(db_, "SELECT attempt, status, folder_attempts FROM journal_ingests WHERE run_id = ?");
    st.bind(1, run);
    if (!st.step()) return std::nullopt;
    return Ingested{st.col_text(0), parse_run_status(st.col_text(1)).value_or(RunStatus::Pending), st.col_int(2)};
}

namespace {
std::string folder_of(const std::string& attempt) { return attempt.substr(0, attempt.find('/')); }
} // namespace

void Store::set_ingested(int64_t run, const Ingested& i, const std::optional<Ingested>& before) {
    int64_t earlier = before && folder_of(before->attempt) == folder_of(i.attempt) ? before->folder_attempts : 0;
    Statement up(db_, "UPDATE runs SET attempts = MAX(0, attempts - 1 - ?) + ? WHERE id = ?");
    up.bind(1, earlier).bind(2, i.folder_attempts).bind(3, run).run(); // - 1: mark_running counted one
    Statement st(db_, "INSERT OR REPLACE INTO journal_ingests(run_id, attempt, status, folder_attempts, synced_at) "
                      "VALUES(?,?,?,?,?)");
    st.bind(1, run).bind(2, i.attempt).bind(3, std::string(to_string(i.status))).bind(4, i.folder_attempts);
    st.bind(5, now_iso()).run();
}

int Store::recover_stale_running() {
    Statement st(db_, "UPDATE runs SET status=?, error=COALESCE(error, 'the iclr host stopped while this trial ran') "
                      "WHERE status=?");
    st.bind(1, std::string(to_string(RunStatus::Interrupted))).bind(2, std::string(to_string(RunStatus::Running)));
    st.run();
    return sqlite3_changes(db_);
}

} // namespace iclr
