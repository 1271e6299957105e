// The results database: open/migrate, and the writes the host makes while a sweep runs.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>

#include "sqlite_util.hpp"
#include "trial.hpp"

namespace iclr {

struct SweepRecord {
    std::string name, file, profile, source, source_sha256, git_commit, host;
    int git_dirty = -1; // -1 unknown
};

struct RunStart {
    int64_t worker_pid = 0;
    int threads = 1;
    std::string device = "cpu", host, torch_version;
};

struct RunEnd {
    std::string status; // done failed timeout interrupted
    std::string error, log_tail;
    std::optional<int> exit_code, signal;
    double duration_s = 0;
};

class Store {
  public:
    // Opens (creating folders and the file) for writing, in WAL mode, migrating older schemas.
    // Refuses a database whose schema is newer than this binary knows.
    static std::unique_ptr<Store> open_write(const std::string& path);
    // Opens an existing database read-only (iclr query / show); no write can go through it.
    static std::unique_ptr<Store> open_read(const std::string& path);
    ~Store();

    sqlite3* db() { return db_; }
    const std::string& path() const { return path_; }
    int version() const;

    int64_t add_sweep(const SweepRecord& s);
    // Status of an existing run with this key, if any.
    std::optional<std::pair<int64_t, std::string>> find_run(const std::string& key);
    // Inserts a pending run, or resets an unfinished one to pending (dropping the partial metrics
    // of its earlier attempt, so a resumed trial never leaves duplicates). Returns the run id.
    int64_t prepare_run(int64_t sweep_id, const ResolvedTrial& t, const std::string& plugins_json,
                        const std::string& git_commit, int git_dirty);
    void mark_running(int64_t run, const RunStart& s);
    void finish_run(int64_t run, const RunEnd& e);
    void add_metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value);
    void set_attribute(int64_t run, const std::string& key, const std::string& value);
    void add_artifact(int64_t run, const std::string& name, const std::string& path, int64_t bytes);
    // Runs left 'running' by a host that died (kill -9, power loss) become 'interrupted'.
    int recover_stale_running();

    void begin();
    void commit();
    bool in_transaction() const { return in_txn_; }

  private:
    Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    void migrate();
    sqlite3* db_;
    std::string path_;
    bool in_txn_ = false;
    std::unique_ptr<Statement> insert_metric_; // prepared once: metric rows are the hot path
};

} // namespace iclr
