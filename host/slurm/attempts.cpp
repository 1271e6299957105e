// Journals -> attempts: records grouped by run, a new start record opening a new attempt.
#include "slurm/attempts.hpp"

#include "journal/journal_file.hpp"

namespace iclr::slurm {
namespace {

int rank(const Attempt& a) {
    if (!a.end) return 0;
    return is_final(a.end->status) ? 2 : 1;
}

void read_one(const std::filesystem::path& file, FolderJournals& out) {
    journal::ReadResult r = journal::read_file(file.string());
    // "<run folder>/<file>": attempt ids stay unique across a sweep's submissions
    std::string name = file.parent_path().parent_path().filename().string() + "/" + file.filename().string();
    if (!r.problem.empty())
        out.problems.push_back(name + ": " + r.problem + "; the " + std::to_string(r.records.size()) +
                               " record(s) before it are used");
    std::string job;
    std::map<int64_t, Attempt*> open; // run -> its attempt in this file
    for (size_t k = 0; k < r.records.size(); ++k) {
        auto ev = journal::decode(r.records[k]);
        if (!ev) {
            out.problems.push_back(name + ": record at byte " + std::to_string(r.offsets[k]) +
                                   " is of a kind this iclr does not know; skipped");
            continue;
        }
        if (auto* t = std::get_if<journal::TaskOpened>(&*ev)) {
            job = t->job;
            open.clear();
            continue;
        }
        int64_t run = journal::run_of(*ev);
        if (auto* s = std::get_if<journal::Started>(&*ev)) {
            auto& list = out.runs[run];
            list.push_back(Attempt{name + "@" + std::to_string(r.offsets[k]), job, *s, {}, std::nullopt});
            open[run] = &list.back();
            continue;
        }
        auto it = open.find(run);
        if (it == open.end()) {
            out.problems.push_back(name + ": record at byte " + std::to_string(r.offsets[k]) + " is for run " +
                                   std::to_string(run) + ", which has no start record before it; skipped");
            continue;
        }
        if (auto* e = std::get_if<journal::Ended>(&*ev)) {
            it->second->end = *e;
            open.erase(it);
        } else {
            it->second->records.push_back(std::move(*ev));
        }
    }
}

} // namespace

FolderJournals read_journals(const RunFolder& folder, const std::string& job_task) {
    return read_journal_files(folder.journals(job_task));
}

FolderJournals read_journal_files(const std::vector<std::filesystem::path>& files) {
    FolderJournals out;
    for (const auto& f : files)
        read_one(f, out);
    return out;
}

RunEnd outcome(const Attempt& a, const std::optional<std::set<std::string>>& active) {
    if (a.end) return *a.end;
    RunEnd e;
    e.run = a.start.start.run;
    if (active && active->count(a.job)) {
        e.status = RunStatus::Running;
        return e;
    }
    e.status = RunStatus::Interrupted;
    e.error =
        "array task " + a.job + " ended before the trial did (cancelled, killed, out of time, or its node failed)";
    return e;
}

const Attempt& winner(const std::vector<Attempt>& attempts) {
    const Attempt* best = &attempts.front();
    for (const auto& a : attempts) {
        int ra = rank(a), rb = rank(*best);
        // a later attempt replaces an equal one, except a finished one: the first to finish counts
        if (ra > rb || (ra == rb && ra < 2)) best = &a;
    }
    return *best;
}

} // namespace iclr::slurm
