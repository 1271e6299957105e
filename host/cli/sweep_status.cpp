// `iclr status SWEEP.toml`: where a sweep stands in a database, by arm: its trials as written and
// what became of each (done, failed, running, pending, not yet recorded), and who is writing now.
// `iclr status` alone: every sweep file the database holds runs of, with their statuses.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/run_plan.hpp"
#include "cli/several.hpp"
#include "cli/sweep_runs.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "common/run_status.hpp"
#include "plugin/plugin_registry.hpp"
#include "slurm/run_folder.hpp"
#include "store/query.hpp"
#include "store/run_lock.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// The columns, in the order a sweep moves through them; "not recorded": no `iclr run` of this
// sweep as written has reached the database yet.
const std::vector<std::string> kColumns = {"done",    "diverged", "failed",      "timeout",
                                           "running", "pending",  "interrupted", "not recorded"};

// A path as the user would type it from here: relative when under the working directory.
std::string from_here(const std::string& file) {
    std::error_code ec;
    auto rel = std::filesystem::relative(file, std::filesystem::current_path(ec), ec);
    return !ec && !rel.empty() && *rel.begin() != ".." ? rel.string() : file;
}

} // namespace

bool print_database_status(const CommonOptions& c) {
    std::error_code ec;
    if (!std::filesystem::exists(c.db_path(), ec)) return false;
    auto store = Store::open_read(c.db_path());
    // A run counts under the invocation that last ran it (runs.sweep_id): its file and profile.
    ResultSet rs = run_query(*store,
                             "SELECT s.file, s.name, COALESCE(s.profile, ''), r.status, COUNT(*), MAX(s.created_at) "
                             "FROM runs r JOIN sweeps s ON s.id = r.sweep_id GROUP BY 1, 2, 3, 4 ORDER BY 6, 1, 3",
                             true);
    struct Line {
        std::string file, name, profile, last;
        std::map<std::string, int64_t> counts;
    };
    std::vector<Line> lines;
    std::map<std::string, int64_t> seen; // status -> runs, over every sweep
    for (const auto& row : rs.rows) {
        auto it = std::find_if(lines.begin(), lines.end(), [&](const Line& l) {
            return l.file == row[0] && l.name == row[1] && l.profile == row[2];
        });
        if (it == lines.end()) it = lines.insert(lines.end(), Line{row[0], row[1], row[2], row[5], {}});
        it->counts[row[3]] += std::stoll(row[4]);
        it->last = std::max(it->last, row[5]);
        seen[row[3]] += std::stoll(row[4]);
    }
    int64_t runs = 0;
    for (const auto& [st, n] : seen)
        runs += n;
    fmt::print("{}: {} run(s) of {} sweep file(s)\n", c.db_path(), runs, lines.size());
    if (lines.empty()) return true;
    RowWriter t(
        Format::Table, [](std::string_view s) { fmt::print("{}", s); }, isatty(STDOUT_FILENO));
    bool profiles = std::any_of(lines.begin(), lines.end(), [](const Line& l) { return !l.profile.empty(); });
    std::vector<std::string> columns{"sweep", "file", "runs"};
    if (profiles) columns.insert(columns.begin() + 2, "profile");
    for (const auto& col : kColumns)
        if (seen.count(col)) columns.push_back(col);
    columns.push_back("last run");
    t.columns(columns);
    for (auto& l : lines) {
        int64_t n = 0;
        for (const auto& [st, k] : l.counts)
            n += k;
        std::vector<Cell> cells{Cell{l.name}, Cell{from_here(l.file)}};
        if (profiles) cells.push_back(Cell{l.profile});
        cells.push_back(Cell{std::to_string(n), false, true});
        for (size_t k = cells.size(); k + 1 < columns.size(); ++k)
            cells.push_back(Cell{std::to_string(l.counts[columns[k]]), false, true});
        cells.push_back(Cell{l.last});
        t.row(cells);
    }
    t.finish();
    fmt::print("by arm, and the trials not yet run: iclr status FILE{}\n", c.db_flag());
    if (std::string h = RunLock::holder(c.db_path()); !h.empty()) fmt::print("a run is writing to it now: {}\n", h);
    return true;
}

namespace {

// The sweep's trials as written, by arm (in the order they come) and by status in the database;
// "not recorded" for a trial it has no run of.
struct StatusCounts {
    std::map<std::string, std::map<std::string, int64_t>> by_arm; // arm -> column -> trials
    std::map<std::string, int64_t> total;
    std::vector<std::string> order;
    int64_t trials = 0;
};
StatusCounts count_trials(const SweepArms& arms, Store& store) {
    std::unordered_map<std::string, std::string> status_of; // key -> status
    for (const auto& row : run_query(store, "SELECT key, status FROM runs", true).rows)
        status_of[row[0]] = row[1];
    StatusCounts n;
    for (const auto& trial : arms.trial_keys()) {
        std::string arm = arms.specs[trial.spec].arm_label();
        auto it = status_of.find(trial.key);
        const std::string& column = it == status_of.end() ? kColumns.back() : it->second;
        if (!n.by_arm.count(arm)) n.order.push_back(arm);
        ++n.by_arm[arm][column];
        ++n.total[column];
        ++n.trials;
    }
    return n;
}

// A row per arm (and one for all of them), a column per status that occurs.
void print_status_table(StatusCounts& n, bool with_arms) {
    RowWriter t(
        Format::Table, [](std::string_view s) { fmt::print("{}", s); }, isatty(STDOUT_FILENO));
    std::vector<std::string> columns{"trials"};
    for (const auto& col : kColumns)
        if (n.total.count(col)) columns.push_back(col);
    if (with_arms) columns.insert(columns.begin(), "arm");
    t.columns(columns);
    auto row = [&](const std::string& label, std::map<std::string, int64_t>& counts) {
        int64_t trials = 0;
        for (const auto& [col, k] : counts)
            trials += k;
        std::vector<Cell> cells;
        if (with_arms) cells.push_back(Cell{label});
        cells.push_back(Cell{std::to_string(trials), false, true});
        for (size_t k = with_arms ? 2 : 1; k < columns.size(); ++k)
            cells.push_back(Cell{std::to_string(counts[columns[k]]), false, true});
        t.row(cells);
    };
    for (const auto& arm : n.order)
        row(arm, n.by_arm[arm]);
    if (n.order.size() > 1) row("all", n.total);
    t.finish();
}

} // namespace

int cmd_sweep_status(const std::string& sweep, const SweepVariant& variant, const CommonOptions& c) {
    PluginRegistry reg;
    reg.discover();
    SweepArms arms = load_sweep(sweep, variant, reg);
    if (arms.raw_count() > kMaxTrialsPerRun)
        throw UserError(fmt::format("{}: {} trials is more than one `iclr run` takes ({})", sweep, arms.raw_count(),
                                    kMaxTrialsPerRun));
    auto store = Store::open_read(c.db_path());
    StatusCounts n = count_trials(arms, *store);
    fmt::print("sweep {} ({}{}): {} trial(s) as written, in {}\n", arms.base().name, sweep, variant.flags(), n.trials,
               c.db_path());
    print_status_table(n, !arms.base().arm.empty());
    if (std::string h = RunLock::holder(c.db_path()); !h.empty()) fmt::print("a run is writing to it now: {}\n", h);
    if (n.total[kColumns.back()] == n.trials) // none recorded: run with --profile ci, asked about without it?
        if (std::string note = other_variants_note(*store, arms.base().name, variant, "see"); !note.empty())
            fmt::print("{}\n", note);
    // Trials handed to Slurm are 'pending' here until `iclr sync` ingests what their tasks finished.
    if (auto folders = run_folders_of(ResultsLayout(c.db_path()).slurm_dir(), arms.base().name); !folders.empty())
        fmt::print("on Slurm: {} run folder(s), the last {} (`iclr sync` ingests what their array tasks finished; "
                   "`iclr status FOLDER` shows the tasks)\n",
                   folders.size(), shell_word(folders.back().root().string()));
    if (n.total["failed"] + n.total["timeout"] > 0)
        fmt::print("failures: iclr query --sweep {}{}{} \"SELECT r.id, r.status, r.error FROM runs r JOIN sweep_runs s "
                   "ON s.id = r.id WHERE r.status IN ('failed', 'timeout')\"\n",
                   shell_word(sweep), variant.flags(), c.db_flag());
    return 0;
}

int cmd_sweep_status_several(const std::vector<std::string>& sweeps, const SweepVariant& variant,
                             const CommonOptions& c) {
    return each_sweep(sweeps, [&](const std::string& sweep) { return cmd_sweep_status(sweep, variant, c); });
}

} // namespace iclr
