// Journal attempts -> runs, metrics, attributes and artifacts rows, one transaction per run.
#include "slurm/ingest.hpp"

#include <optional>

#include "slurm/attempts.hpp"

namespace iclr::slurm {
namespace {

void replay(Store& store, const Attempt& a) {
    for (const auto& ev : a.records) {
        if (auto* m = std::get_if<journal::Metric>(&ev))
            store.add_metric(m->run, m->key, m->step, m->task, m->value);
        else if (auto* at = std::get_if<journal::Attribute>(&ev))
            store.set_attribute(at->run, at->key, at->value);
        else if (auto* f = std::get_if<journal::Artifact>(&ev))
            store.add_artifact(f->run, f->name, f->path, f->bytes);
    }
}

void apply(Store& store, const Attempt& a, const RunEnd& end, size_t attempts,
           const std::optional<Store::Ingested>& before) {
    int64_t run = a.start.start.run;
    store.begin();
    try {
        store.clear_results(run);
        store.mark_running(a.start.start);
        replay(store, a);
        if (end.status != RunStatus::Running) store.finish_run(end);
        store.set_ingested(run, {a.id, end.status, int64_t(attempts)}, before);
        store.commit();
    } catch (...) {
        store.rollback();
        throw;
    }
}

// The runs of `j` into the store (see sync_folder); each run's status as it is now goes to
// `status`, the lines worth saying to `problems`.
void ingest(Store& store, const FolderJournals& j, const std::map<int64_t, const FrozenTrial*>& planned,
            const std::optional<std::set<std::string>>& active, SyncResult& r, std::map<int64_t, RunStatus>& status,
            std::vector<std::string>& problems, int64_t& not_in_db) {
    problems.insert(problems.end(), j.problems.begin(), j.problems.end());
    for (const auto& [run, attempts] : j.runs) {
        const Attempt& a = winner(attempts);
        auto it = planned.find(run);
        if (it == planned.end() || it->second->key != a.start.key) {
            problems.push_back(a.id + ": run " + std::to_string(run) + " with key " + a.start.key.substr(0, 12) +
                               " is not in this folder's plan; skipped");
            continue;
        }
        auto existing = store.find_run(a.start.key);
        if (!existing) // an array launched before the schema-9 migration rewrote its runs' keys
            if (auto now = store.key_rewritten_from(a.start.key)) existing = store.find_run(*now);
        if (!existing || existing->id != run) {
            ++not_in_db;
            continue;
        }
        RunEnd end = outcome(a, active);
        auto before = store.ingested(run);
        bool same = before && before->attempt == a.id;
        if (is_final(existing->status)) {
            // Finished is final: never replaced by another attempt or a local run, nor undone by a
            // journal that lost its end record after it was synced.
            ++(same ? r.unchanged : r.kept);
            status[run] = existing->status;
            continue;
        }
        if (same && before->status == end.status && end.status != RunStatus::Running) {
            ++r.unchanged;
        } else {
            apply(store, a, end, attempts.size(), before);
            ++r.ingested;
            r.changes.push_back({run, end.status, end.duration_s, end.error});
        }
        status[run] = end.status;
    }
}

// "12_3.0.jnl" -> "12_3": the array task whose attempts the file holds.
std::string task_of(const std::filesystem::path& journal) {
    std::string name = journal.filename().string();
    return name.substr(0, name.find('.'));
}

// What tells a task's journals have changed since the last pass: each file's name, size and
// modification time, and whether Slurm still holds the task (an attempt without an end record
// turns from running to interrupted when it leaves the queue).
std::string signature(const std::vector<std::filesystem::path>& files, const std::string& task,
                      const std::optional<std::set<std::string>>& active) {
    std::string sig = !active ? "?" : active->count(task) ? "active" : "gone";
    for (const auto& f : files) {
        std::error_code ec;
        auto size = std::filesystem::file_size(f, ec);
        auto time = std::filesystem::last_write_time(f, ec).time_since_epoch().count();
        sig += "|" + f.filename().string() + ":" + std::to_string(size) + ":" + std::to_string(time);
    }
    return sig;
}

} // namespace

SyncResult sync_folder(Store& store, const RunFolder& folder, const std::optional<std::set<std::string>>& active,
                       const FrozenPlan* plan, FollowState* follow) {
    std::optional<FrozenPlan> read;
    if (!plan) plan = &read.emplace(folder.read_plan());
    std::map<int64_t, const FrozenTrial*> planned;
    for (const auto& t : plan->trials)
        planned[t.run_id] = &t;
    SyncResult r;
    int64_t not_in_db = 0; // said once: a folder synced into the wrong database names every run
    std::map<int64_t, RunStatus> status;
    if (!follow) {
        ingest(store, read_journals(folder), planned, active, r, status, r.problems, not_in_db);
    } else {
        // Only the array tasks whose journals (or place in the queue) changed since the last pass
        // are read and written again: a 100,000-task array is not reread every 2 s.
        std::map<std::string, std::vector<std::filesystem::path>> by_task;
        for (const auto& f : folder.journals())
            by_task[task_of(f)].push_back(f);
        for (const auto& [task, files] : by_task) {
            std::string sig = signature(files, task, active);
            auto& seen = follow->tasks[task];
            if (seen.signature == sig) continue;
            seen = {sig, {}};
            ingest(store, read_journal_files(files), planned, active, r, follow->status, seen.problems, not_in_db);
        }
        for (const auto& [task, seen] : follow->tasks)
            r.problems.insert(r.problems.end(), seen.problems.begin(), seen.problems.end());
    }
    for (const auto& [run, st] : follow ? follow->status : status)
        ++r.status[st];
    if (not_in_db)
        r.problems.push_back(std::to_string(not_in_db) + " run(s) of " + folder.root().filename().string() +
                             " are not in " + store.path() + " (the plan was made for " + plan->db_path + "); skipped");
    return r;
}

} // namespace iclr::slurm
