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

} // namespace

SyncResult sync_folder(Store& store, const RunFolder& folder, const std::optional<std::set<std::string>>& active,
                       const FrozenPlan* plan) {
    std::optional<FrozenPlan> read;
    if (!plan) plan = &read.emplace(folder.read_plan());
    std::map<int64_t, const FrozenTrial*> planned;
    for (const auto& t : plan->trials)
        planned[t.run_id] = &t;
    FolderJournals j = read_journals(folder);
    SyncResult r;
    r.problems = j.problems;
    int64_t not_in_db = 0; // said once: a folder synced into the wrong database names every run
    for (const auto& [run, attempts] : j.runs) {
        const Attempt& a = winner(attempts);
        auto it = planned.find(run);
        if (it == planned.end() || it->second->key != a.start.key) {
            r.problems.push_back(a.id + ": run " + std::to_string(run) + " with key " + a.start.key.substr(0, 12) +
                                 " is not in this folder's plan; skipped");
            continue;
        }
        auto existing = store.find_run(a.start.key);
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
            ++r.status[existing->status];
            continue;
        }
        if (same && before->status == end.status && end.status != RunStatus::Running) {
            ++r.unchanged;
        } else {
            apply(store, a, end, attempts.size(), before);
            ++r.ingested;
            r.changes.push_back({run, end.status, end.duration_s, end.error});
        }
        ++r.status[end.status];
    }
    if (not_in_db)
        r.problems.push_back(std::to_string(not_in_db) + " run(s) of " + folder.root().filename().string() +
                             " are not in " + store.path() + " (the plan was made for " + plan->db_path + "); skipped");
    return r;
}

} // namespace iclr::slurm
