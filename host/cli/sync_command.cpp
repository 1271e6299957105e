// `iclr sync [FOLDER...]` and `iclr status [FOLDER...]`: Slurm run folders into the database, and
// what each array task is doing.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/slurm_common.hpp"
#include "cli/table.hpp"
#include "slurm/attempts.hpp"
#include "slurm/slurm_client.hpp"
#include "store/run_lock.hpp"

namespace iclr {
namespace {

// The named folders, or every run folder of the database when none is named.
std::vector<RunFolder> folders_of(const std::vector<std::string>& named, const CommonOptions& c) {
    std::vector<RunFolder> out;
    for (const auto& n : named) {
        if (n.empty()) // "" / "plan.toml" would be ./plan.toml
            throw UserError("an empty folder name: name a Slurm run folder, or none for all of the database's");
        if (!std::filesystem::exists(std::filesystem::path(n) / "plan.toml"))
            throw UserError(n + ": not a Slurm run folder (no plan.toml); `iclr run --launcher slurm` prints its path");
        out.emplace_back(std::filesystem::absolute(n));
    }
    if (named.empty()) {
        std::error_code ec;
        ResultsLayout layout(c.db_path());
        for (const auto& e : std::filesystem::directory_iterator(layout.slurm_dir(), ec))
            if (std::filesystem::exists(e.path() / "plan.toml")) out.emplace_back(e.path());
        std::sort(out.begin(), out.end(), [](const RunFolder& a, const RunFolder& b) { return a.root() < b.root(); });
        if (out.empty())
            throw UserError("no Slurm run folders under " + layout.slurm_dir().string() +
                            " (`iclr run SWEEP --launcher slurm` makes them)");
    }
    return out;
}

// One array task: Slurm's state, or what its journals say once Slurm no longer holds it.
std::vector<std::string> task_row(const std::string& job_task, const std::optional<std::set<std::string>>& active,
                                  const std::map<std::string, std::string>& states, int64_t trials,
                                  const std::map<RunStatus, int64_t>& by_status) {
    std::string state = states.count(job_task) ? states.at(job_task) : !active ? "unknown (no squeue)" : "ended";
    int64_t done = 0, started = 0;
    for (const auto& [s, n] : by_status) {
        started += n;
        if (is_final(s)) done += n;
    }
    if (state == "ended" && done < trials) state = "ended early";
    return {job_task,
            state,
            std::to_string(trials),
            std::to_string(done),
            by_status.empty() ? "-" : status_counts(by_status),
            std::to_string(trials - started)};
}

// Above this many array tasks, `iclr status FOLDER` lists only those not ended with every trial
// finished (a 100,000-task array is not 100,000 rows), and counts the rest by state.
constexpr size_t kListedTasks = 40;

// One run folder's array tasks: Slurm's state and what their journals hold.
void print_folder_status(const RunFolder& f, const std::optional<std::map<std::string, std::string>>& states,
                         const std::optional<std::set<std::string>>& active) {
    FrozenPlan plan = f.read_plan();
    auto journals = slurm::read_journals(f);
    std::map<int64_t, RunStatus> run_status; // from each run's winning attempt, as sync would write it
    for (const auto& [run, attempts] : journals.runs)
        run_status[run] = slurm::outcome(slurm::winner(attempts), active).status;
    fmt::print("{} (sweep {}, {} trials, submitted {}):\n", f.root().string(), plan.sweep_name, plan.trials.size(),
               plan.created_at);
    std::vector<std::vector<std::string>> rows;
    std::map<RunStatus, int64_t> total;
    std::map<std::string, int64_t> by_state;
    for (const auto& sub : f.submissions())
        for (int64_t i = 0; i < sub.count; ++i) {
            auto [first, end] = plan.slice(sub.first_task + i);
            std::map<RunStatus, int64_t> by;
            for (size_t k = first; k < end; ++k)
                if (auto it = run_status.find(plan.trials[k].run_id); it != run_status.end()) ++by[it->second];
            for (const auto& [s, n] : by)
                total[s] += n;
            rows.push_back(task_row(sub.job_id + "_" + std::to_string(i), active,
                                    states.value_or(std::map<std::string, std::string>{}), int64_t(end - first), by));
            ++by_state[rows.back()[1]];
        }
    bool all = rows.size() <= kListedTasks;
    RowWriter t(
        Format::Table, [](std::string_view s) { fmt::print("{}", s); }, isatty(STDOUT_FILENO));
    t.columns({"array task", "slurm", "trials", "finished", "journal", "not started"});
    size_t listed = 0;
    for (auto& row : rows) {
        if (!all && (row[1] == "ended" || listed == kListedTasks)) continue;
        ++listed;
        std::vector<Cell> cells;
        for (auto& text : row)
            cells.push_back(Cell{std::move(text)});
        t.row(cells);
    }
    t.finish();
    if (!all) {
        std::string counts;
        for (const auto& [state, n] : by_state)
            counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + state;
        fmt::print("array tasks: {} ({} listed: the first not ended with every trial finished)\n", counts, listed);
    }
    fmt::print("trials: {}\n", status_counts(total));
    if (by_state.count("ended early"))
        fmt::print("a task that ended early says why at the end of its log: {}/JOB_TASK.out\n", f.logs_dir().string());
    for (const auto& p : journals.problems)
        fmt::print("warning: {}\n", p);
}

// The database to sync into: --db when given; else the one the named folders' plans were made for,
// so that `iclr sync FOLDER`, as `iclr run --launcher slurm --db X` prints it, ingests into X from
// any directory; else the default.
std::string sync_db(const std::vector<RunFolder>& folders, bool named, const CommonOptions& c) {
    if (!c.db.empty() || !named) return c.db_path();
    std::set<std::string> dbs;
    for (const auto& f : folders)
        dbs.insert(f.read_plan().db_path);
    if (dbs.size() > 1)
        throw UserError("the named run folders were made for different databases (" + *dbs.begin() + ", " +
                        *std::next(dbs.begin()) + "); sync them one database at a time, or name one with --db");
    const std::string& db = *dbs.begin();
    if (!std::filesystem::exists(db))
        throw UserError(folders.front().root().string() + " was made for " + db +
                        ", which does not exist (moved?); name the database to sync into with --db");
    return db;
}

} // namespace

int cmd_sync(const std::vector<std::string>& named, const CommonOptions& c) {
    auto folders = folders_of(named, c);
    std::string db_path = sync_db(folders, !named.empty(), c);
    RunLock lock(db_path, "sync");
    auto store = Store::open_write(db_path);
    auto active = active_tasks(folders);
    if (!active)
        fmt::print("note: squeue did not answer: trials without an end record count as interrupted until the next "
                   "sync that can ask Slurm\n");
    for (const auto& f : folders)
        sync_and_say(*store, f, active, true);
    return 0;
}

int cmd_status(const std::vector<std::string>& named, const CommonOptions& c) {
    std::vector<RunFolder> folders;
    // Alone: what the database holds, then the Slurm run folders beside it, if any.
    bool database = named.empty() && print_database_status(c);
    try {
        folders = folders_of(named, c);
    } catch (const UserError& e) {
        if (!named.empty()) throw;
        if (database) return 0;
        throw UserError(c.db_path() + ": no such database, and " + std::string(e.what()) +
                        "; for a sweep run here: iclr status SWEEP.toml");
    }
    if (database) fmt::print("\n");
    std::vector<std::string> jobs;
    for (const auto& f : folders)
        for (const auto& s : f.submissions())
            jobs.push_back(s.job_id);
    auto states = slurm::queued_tasks(jobs);
    std::optional<std::set<std::string>> active;
    if (states) {
        active.emplace();
        for (const auto& [t, s] : *states)
            active->insert(t);
    }
    for (const auto& f : folders)
        print_folder_status(f, states, active);
    return 0;
}

} // namespace iclr
