// The results database: open/migrate, and the writes the host makes while a sweep runs.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <utility>
#include <vector>

#include "common/run_record.hpp"
#include "iclr/params.hpp"
#include "store/sqlite_util.hpp"

namespace iclr {

struct SweepRecord {
    std::string name, file, profile, source, source_sha256, git_commit, host;
    int git_dirty = -1; // -1 unknown
};

// A trial as the runs and params tables hold it: plain rows, no sweep types.
struct RunRow {
    std::string key; // the trial key (content hash of config_toml)
    int64_t sweep_id = 0;
    uint64_t trial_index = 0;
    int64_t seed = 0;
    std::string dataset, model, method; // plugin names ("" when the sweep has no such section)
    std::string config_toml, config_json, plugins_json;
    std::vector<std::pair<std::string, Value>> params; // "model.width" -> 64
    std::string git_commit;
    int git_dirty = -1; // -1 unknown
    std::string arm;    // the sweep arm ("" when the sweep has none)
};

struct ExistingRun {
    int64_t id = 0;
    RunStatus status = RunStatus::Pending;
    std::string plugins_json; // the builds that made it (name, version, file, sha256 per section)
    std::string arm;
    std::string iclr_build; // of the sweep invocation that last ran it (sweeps.iclr_version; "" if unknown)
    std::string sweep;      // the name of that invocation's sweep
    int64_t sweep_id = 0;   // that invocation's row in sweeps
};

class Store {
  public:
    // Opens (creating folders and the file) for writing, in WAL mode, migrating older schemas.
    // Refuses, before writing a byte: a path that is not a regular file, a file that is not an
    // SQLite database, another application's database, a schema newer than this binary knows.
    static std::unique_ptr<Store> open_write(const std::string& path);
    // Opens an existing database read-only (iclr query / show) for any user who can read the
    // file: no write can go through it, and it never creates or changes a file (no -wal/-shm).
    static std::unique_ptr<Store> open_read(const std::string& path);
    // An empty database of the current schema in memory, with iclr's SQL functions: what a sweep's
    // claim and plot queries are tried on before any trial of it runs.
    static std::unique_ptr<Store> open_empty();
    // Attaches another results database as `name` (an SQL identifier, not main or temp) so a query
    // joins across the two (`iclr query --attach`): read-only and immutable-if-at-rest as open_read
    // reads a file; an older schema as a copy migrated in memory (the file is left as it is).
    void attach_read_only(const std::string& name, const std::string& path);
    // Called while a write waits for another process's lock, with the seconds waited so far;
    // returning false gives up (the write fails with SQLITE_BUSY). Without one: 5 s, then fail.
    void set_lock_wait(std::function<bool(double)> keep_waiting);
    ~Store();

    // Metric rows buffered by add_metric are written first, so whatever reads or writes through
    // the handle sees every row added so far.
    sqlite3* db() {
        flush_metrics();
        return db_;
    }
    const std::string& path() const { return path_; }
    int version() const;

    int64_t add_sweep(const SweepRecord& s);
    // Status of an existing run with this key, if any.
    std::optional<ExistingRun> find_run(const std::string& key);
    // The key a run has today whose key was `old_key` until the schema-9 migration rewrote it
    // (rekeyed_runs): what the journals of a Slurm array launched by an iclr before it carry.
    std::optional<std::string> key_rewritten_from(const std::string& old_key);
    // Inserts a pending run, or resets an unfinished one to pending (dropping the partial metrics
    // of its earlier attempt, so a resumed trial never leaves duplicates). Returns the run id.
    // `existing` is what find_run(row.key) returned (the caller looked already, to decide whether to
    // run the trial at all), so the lookup is not made twice per trial.
    int64_t prepare_run(const RunRow& row, const std::optional<ExistingRun>& existing);
    void mark_running(const RunStart& s);
    // A finished trial now belongs to another arm of its own sweep (same config, so it is not rerun):
    // rename it.
    void set_arm(int64_t run, const std::string& arm);
    void finish_run(const RunEnd& e);
    // Buffered, and written kMetricBatch rows per INSERT: one statement per row made SQLite's
    // per-statement cost most of the host's time on a metric-heavy trial. finish_run, clear_results,
    // commit and db() write the buffer first, so nothing reads the table without its latest rows.
    void add_metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value);
    void set_attribute(int64_t run, const std::string& key, const std::string& value);
    void add_artifact(int64_t run, const std::string& name, const std::string& path, int64_t bytes);
    // Drops what an attempt of the run recorded (metrics, final metrics, attributes, artifacts).
    void clear_results(int64_t id);
    // Journal ingestion (Slurm): the attempt last ingested for a run, the status it gave, and the
    // attempts at the run its run folder holds (runs.attempts counts every folder's, and local ones).
    struct Ingested {
        std::string attempt; // "<run folder>/<journal file>@<offset>"
        RunStatus status = RunStatus::Pending;
        int64_t folder_attempts = 0;
    };
    std::optional<Ingested> ingested(int64_t run);
    // Records i, and sets runs.attempts to what it was without the earlier ingest from the same
    // folder (`before`), plus i.folder_attempts.
    void set_ingested(int64_t run, const Ingested& i, const std::optional<Ingested>& before);
    // Runs left 'running' by a host that died (kill -9, power loss) become 'interrupted'.
    int recover_stale_running();

    void begin();
    void commit();
    // Undoes the open transaction, buffered metric rows included.
    void rollback();
    // Asks SQLite too: a statement that failed (a full disk) can have rolled the transaction back.
    bool in_transaction() const;

  private:
    Store(sqlite3* db, std::string path, bool writable) : db_(db), path_(std::move(path)), writable_(writable) {}
    static int on_busy(void* self, int attempt);
    void migrate();
    void reset_run(int64_t id, const RunRow& row);
    void insert_params(int64_t id, const RunRow& row);
    struct MetricRow {
        int64_t run, step;
        std::string key;
        std::optional<int64_t> task;
        double value;
    };
    static constexpr size_t kMetricBatch = 64; // 6 parameters a row: 384 of SQLite's 32,766
    void flush_metrics();
    static void bind_metric(Statement& st, int at, const MetricRow& m); // parameters at+1 .. at+6
    std::unique_ptr<Statement> metric_insert(size_t rows);              // INSERT of `rows` rows
    sqlite3* db_;
    std::string path_;
    bool writable_ = false;
    bool in_txn_ = false;
    std::function<bool(double)> keep_waiting_;
    std::chrono::steady_clock::time_point busy_since_;
    std::vector<MetricRow> pending_metrics_;
    std::unique_ptr<Statement> insert_metric_batch_; // prepared once: metric rows are the hot path
};

} // namespace iclr
