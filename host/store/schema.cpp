// Schema migrations. Version 1: sweeps, runs, params, metrics, attributes, artifacts and views.
// Version 2: final_metrics becomes a table the host fills when a run ends (a view over 1M metric
// rows took ~0.5 s to pivot; the table makes it a 100k-row scan). Version 3: 'diverged' runs and
// non-finite metric values. Version 4: verdicts of claims, runs.arm. Version 5: which journal
// attempt `iclr sync` ingested for each run (Slurm). Version 6: the variant (--profile, --set) a
// verdict was computed for. Version 7: runs.kernels. Version 8: run_summary.arm. Version 9: configs
// and keys list a trial's metrics by plugin name.
#include "store/schema.hpp"

#include "common/errors.hpp"
#include "common/trial_key.hpp"
#include "store/sqlite_util.hpp"

namespace iclr {

const std::vector<const char*>& migrations() {
    static const std::vector<const char*> steps = {
        // 0 -> 1
        R"SQL(
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    profile TEXT,
    source TEXT NOT NULL,          -- the sweep file's text as run
    source_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    git_commit TEXT,
    git_dirty INTEGER,
    host TEXT,
    iclr_version TEXT
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,      -- sha256 of the canonical config (config + seed + plugin versions)
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
    trial_index INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','timeout','interrupted')),
    dataset TEXT, model TEXT, method TEXT,
    config_toml TEXT NOT NULL,
    config_json TEXT NOT NULL,
    plugins_json TEXT NOT NULL,    -- name, version, file, sha256 of every plugin used
    torch_version TEXT, threads INTEGER, device TEXT, host TEXT, worker_pid INTEGER,
    git_commit TEXT, git_dirty INTEGER,
    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, duration_s REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER, signal INTEGER, error TEXT, log_tail TEXT
);
CREATE INDEX runs_sweep ON runs(sweep_id, status);
CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,             -- "model.width", "method.lr", "metric.accuracy.batch"
    type TEXT NOT NULL,            -- int float bool string list
    value,                         -- typed: INTEGER, REAL, TEXT (lists as JSON)
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_key ON params(key, value);
CREATE TABLE metrics (
    run_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    step INTEGER NOT NULL,
    task INTEGER,                  -- NULL when the value is not per task
    value REAL
);
CREATE INDEX metrics_run_key ON metrics(run_id, key, task, step);
CREATE TABLE attributes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE artifacts (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes INTEGER,
    created_at TEXT NOT NULL
);
-- The last value of each (run, key, task): SQLite returns the row holding MAX(step).
CREATE VIEW final_metrics AS
    SELECT run_id, key, task, MAX(step) AS step, value FROM metrics GROUP BY run_id, key, task;
-- a[t][i]: accuracy on task i after training task t (logged by metric plugins as key 'acc').
CREATE VIEW accuracy_matrix AS
    SELECT run_id, step AS after_task, task, value AS accuracy FROM metrics WHERE key = 'acc' AND task IS NOT NULL;
CREATE VIEW run_summary AS
    SELECT r.id, s.name AS sweep, r.status, r.dataset, r.model, r.method, r.seed,
           r.duration_s, r.attempts, r.error
    FROM runs r JOIN sweeps s ON s.id = r.sweep_id;
)SQL",
        // 1 -> 2
        R"SQL(
DROP VIEW final_metrics;
CREATE TABLE final_metrics (
    run_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    task INTEGER,
    step INTEGER NOT NULL,         -- the last step the key was logged at
    value REAL
);
INSERT INTO final_metrics(run_id, key, task, step, value)
    SELECT run_id, key, task, MAX(step), value FROM metrics GROUP BY run_id, key, task;
CREATE INDEX final_metrics_run ON final_metrics(run_id, key);
CREATE INDEX final_metrics_key ON final_metrics(key, run_id);
)SQL",
        // 2 -> 3: a run may end 'diverged' (its loss became NaN or infinite, at diverged_step), and
        // non-finite metric values are kept: SQLite stores NaN as NULL, so `nonfinite` says 'nan'
        // (or 'inf' / '-inf', which the REAL column holds too) where a NULL alone would read as
        // "missing". The runs table is rebuilt because a CHECK constraint cannot be altered.
        R"SQL(
CREATE TABLE runs_v3 (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
    trial_index INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','timeout','interrupted','diverged')),
    dataset TEXT, model TEXT, method TEXT,
    config_toml TEXT NOT NULL,
    config_json TEXT NOT NULL,
    plugins_json TEXT NOT NULL,
    torch_version TEXT, threads INTEGER, device TEXT, host TEXT, worker_pid INTEGER,
    git_commit TEXT, git_dirty INTEGER,
    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, duration_s REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER, signal INTEGER, error TEXT, log_tail TEXT,
    diverged_step INTEGER          -- the step whose loss was not finite (status 'diverged')
);
INSERT INTO runs_v3(id, key, sweep_id, trial_index, seed, status, dataset, model, method, config_toml, config_json,
                    plugins_json, torch_version, threads, device, host, worker_pid, git_commit, git_dirty,
                    created_at, started_at, finished_at, duration_s, attempts, exit_code, signal, error, log_tail)
    SELECT id, key, sweep_id, trial_index, seed, status, dataset, model, method, config_toml, config_json,
           plugins_json, torch_version, threads, device, host, worker_pid, git_commit, git_dirty,
           created_at, started_at, finished_at, duration_s, attempts, exit_code, signal, error, log_tail FROM runs;
DROP VIEW run_summary;
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_sweep ON runs(sweep_id, status);
CREATE VIEW run_summary AS
    SELECT r.id, s.name AS sweep, r.status, r.dataset, r.model, r.method, r.seed,
           r.duration_s, r.attempts, r.error
    FROM runs r JOIN sweeps s ON s.id = r.sweep_id;
ALTER TABLE metrics ADD COLUMN nonfinite TEXT;       -- 'nan', 'inf', '-inf'; NULL when finite
ALTER TABLE final_metrics ADD COLUMN nonfinite TEXT;
)SQL",
        // 3 -> 4: claims. `iclr verify` records each verdict with the figures, the runs it used
        // and provenance; runs.arm names the sweep arm a run belongs to.
        R"SQL(
CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY,
    sweep_file TEXT NOT NULL,
    sweep_sha256 TEXT NOT NULL,    -- the sweep text the claim was read from
    claim TEXT NOT NULL,
    source TEXT,                   -- where in the paper
    kind TEXT NOT NULL,
    sql TEXT NOT NULL,
    n INTEGER NOT NULL,            -- independent units (seeds)
    estimate REAL, ci_low REAL, ci_high REAL,
    verdict TEXT NOT NULL CHECK (verdict IN ('held','not held','inconclusive','no data')),
    reason TEXT,
    runs_count INTEGER,            -- runs its rows named: run_id, base_run_id, run_ids (NULL: none)
    runs_sha256 TEXT,              -- of their keys, sorted
    iclr_version TEXT, git_commit TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX verdicts_claim ON verdicts(claim, created_at);
ALTER TABLE runs ADD COLUMN arm TEXT;
)SQL",
        // 4 -> 5: runs that came from Slurm array tasks' journals: the attempt `iclr sync` ingested
        // ("<run folder>/<journal file>@<byte offset of its start record>"), the status it gave and
        // the attempts that folder's journals hold, so syncing again changes nothing and a requeued
        // trial's second attempt never adds to the first.
        R"SQL(
CREATE TABLE journal_ingests (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    attempt TEXT NOT NULL,
    status TEXT NOT NULL,
    folder_attempts INTEGER NOT NULL,
    synced_at TEXT NOT NULL
);
)SQL",
        // 5 -> 6: the flags a verdict was computed under. sweep_sha256 hashes the file's text with
        // any --set appended, but not which [profile.*] applied, so a ci verdict and a full one of
        // the same file could not be told apart except by their runs.
        R"SQL(
ALTER TABLE verdicts ADD COLUMN variant TEXT NOT NULL DEFAULT ''; -- "--profile ci --set 'method.lr=0.1'", '' for none
)SQL",
        // 6 -> 7: the CPU kernels a run computed with. The same code, config, seed and threads give
        // other last bits under another BLAS kernel set (OpenBLAS picks one per CPU) or ATen vector
        // ISA, and a chaotic trial other metrics: the forgetting sweep's VICReg arms moved by 0.03
        // between an Intel and an AMD machine. NULL for runs recorded before.
        R"SQL(
ALTER TABLE runs ADD COLUMN kernels TEXT;    -- "OpenBLAS 0.3.21 Haswell, ATen AVX2"
)SQL",
        // 7 -> 8: run_summary names each run's arm, the column a sweep's runs are read by since
        // version 4 (the view predates arms: `SELECT arm, ... FROM run_summary` failed).
        R"SQL(
DROP VIEW run_summary;
CREATE VIEW run_summary AS
    SELECT r.id, s.name AS sweep, r.arm, r.status, r.dataset, r.model, r.method, r.seed,
           r.duration_s, r.attempts, r.error
    FROM runs r JOIN sweeps s ON s.id = r.sweep_id;
)SQL",
        // 8 -> 9: a trial's metrics are listed by plugin name in its config, so in its key
        // (common/trial_key.hpp); until now in the sweep file's order, so moving [[metric]] blocks
        // ran every trial again. Each run's config and key become what the trial has today. Where
        // two runs would then share a key (a database holding a sweep's runs before and after its
        // metric blocks were moved), a run whose config was in that order already keeps it, and of
        // the others the one that stands elsewhere (done or diverged, then the last finished); the
        // rest keep their configs and keys as recorded. Nothing is deleted. rekeyed_runs keeps each
        // rewritten run's old key: the journals of a Slurm array launched before carry it.
        R"SQL(
CREATE TEMP TABLE iclr_rekey AS
    SELECT id, status IN ('done', 'diverged') AS finished, COALESCE(finished_at, '') AS finished_at,
           iclr_config_in_key_order(config_toml) AS config, NULL AS key
    FROM runs;
DELETE FROM iclr_rekey WHERE config = (SELECT config_toml FROM runs WHERE runs.id = iclr_rekey.id);
UPDATE iclr_rekey SET key = iclr_trial_key(config);
CREATE INDEX temp.iclr_rekey_key ON iclr_rekey(key);
DELETE FROM iclr_rekey WHERE key IN (SELECT key FROM runs);
DELETE FROM iclr_rekey WHERE EXISTS (
    SELECT 1 FROM iclr_rekey o WHERE o.key = iclr_rekey.key AND o.id != iclr_rekey.id AND
        (o.finished, o.finished_at, o.id) > (iclr_rekey.finished, iclr_rekey.finished_at, iclr_rekey.id));
CREATE TABLE rekeyed_runs (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    old_key TEXT NOT NULL UNIQUE   -- the key schema 8 gave it (its metrics in the sweep file's order)
);
INSERT INTO rekeyed_runs(run_id, old_key) SELECT runs.id, runs.key FROM iclr_rekey r JOIN runs ON runs.id = r.id;
UPDATE runs SET config_toml = r.config, key = r.key, config_json = iclr_config_json(r.config)
    FROM iclr_rekey r WHERE r.id = runs.id;
DROP TABLE iclr_rekey;
)SQL",
    };
    return steps;
}

void register_migration_functions(sqlite3* db) {
    struct Fn {
        const char* name;
        void (*f)(sqlite3_context*, int, sqlite3_value**);
    };
    for (const Fn& fn :
         {Fn{"iclr_config_in_key_order", sql_text_function<config_in_key_order>},
          Fn{"iclr_trial_key", sql_text_function<trial_key>}, Fn{"iclr_config_json", sql_text_function<config_json>}})
        if (sqlite3_create_function_v2(db, fn.name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, fn.f, nullptr,
                                       nullptr, nullptr) != SQLITE_OK)
            throw HostError(std::string("cannot register the migrations' SQL function ") + fn.name + ": " +
                            sqlite3_errmsg(db));
}

void require_known_version(const std::string& where, int version) {
    if (version > schema_version())
        throw UserError(where + ": database schema version " + std::to_string(version) +
                        " is newer than this iclr (knows up to " + std::to_string(schema_version()) +
                        "); use a newer iclr");
}

} // namespace iclr
