// `iclr status SWEEP.toml`: where a sweep stands in a database, by arm: its trials as written and
// what became of each (done, failed, running, pending, not yet recorded), and who is writing now.
#include <unistd.h>

#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/run_plan.hpp"
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
#include "sweep/trial.hpp"

namespace iclr {
namespace {

// The columns, in the order a sweep moves through them; "not recorded": no `iclr run` of this
// sweep as written has reached the database yet.
const std::vector<std::string> kColumns = {"done",    "diverged", "failed",      "timeout",
                                           "running", "pending",  "interrupted", "not recorded"};

// Each trial's arm label and key, as `iclr run` would plan them (duplicates once, as it runs them).
std::vector<std::pair<std::string, std::string>> planned_trials(const SweepArms& arms) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unordered_set<std::string> seen;
    for (uint32_t k = 0; k < arms.specs.size(); ++k)
        arms.expansions[k]->for_each([&](const TrialPoint& p) {
            ResolvedTrial t = resolve_trial(arms.specs[k], arms.plugins[k], p);
            if (seen.insert(t.key).second) out.emplace_back(arms.specs[k].arm_label(), t.key);
            return true;
        });
    return out;
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
    std::unordered_map<std::string, std::string> status_of; // key -> status
    for (const auto& row : run_query(*store, "SELECT key, status FROM runs", true).rows)
        status_of[row[0]] = row[1];
    std::map<std::string, std::map<std::string, int64_t>> by_arm; // arm -> column -> trials
    std::map<std::string, int64_t> total;
    std::vector<std::string> order;
    for (const auto& [arm, key] : planned_trials(arms)) {
        auto it = status_of.find(key);
        const std::string& column = it == status_of.end() ? kColumns.back() : it->second;
        if (!by_arm.count(arm)) order.push_back(arm);
        ++by_arm[arm][column];
        ++total[column];
    }
    int64_t trials = 0;
    for (const auto& [col, n] : total)
        trials += n;
    fmt::print("sweep {} ({}{}): {} trial(s) as written, in {}\n", arms.base().name, sweep, variant.flags(), trials,
               c.db_path());
    RowWriter t(
        Format::Table, [](std::string_view s) { fmt::print("{}", s); }, isatty(STDOUT_FILENO));
    bool with_arms = !arms.base().arm.empty();
    std::vector<std::string> columns{"trials"};
    for (const auto& col : kColumns)
        if (total.count(col)) columns.push_back(col);
    if (with_arms) columns.insert(columns.begin(), "arm");
    t.columns(columns);
    auto row = [&](const std::string& label, std::map<std::string, int64_t>& counts) {
        int64_t n = 0;
        for (const auto& [col, k] : counts)
            n += k;
        std::vector<Cell> cells;
        if (with_arms) cells.push_back(Cell{label});
        cells.push_back(Cell{std::to_string(n), false, true});
        for (size_t k = with_arms ? 2 : 1; k < columns.size(); ++k)
            cells.push_back(Cell{std::to_string(counts[columns[k]]), false, true});
        t.row(cells);
    };
    for (const auto& arm : order)
        row(arm, by_arm[arm]);
    if (order.size() > 1) row("all", total);
    t.finish();
    if (std::string h = RunLock::holder(c.db_path()); !h.empty()) fmt::print("a run is writing to it now: {}\n", h);
    // Trials handed to Slurm are 'pending' here until `iclr sync` ingests what their tasks finished.
    if (auto folders = run_folders_of(ResultsLayout(c.db_path()).slurm_dir(), arms.base().name); !folders.empty())
        fmt::print("on Slurm: {} run folder(s), the last {} (`iclr sync` ingests what their array tasks finished; "
                   "`iclr status FOLDER` shows the tasks)\n",
                   folders.size(), shell_word(folders.back().root().string()));
    if (total["failed"] + total["timeout"] > 0)
        fmt::print("failures: iclr query --sweep {}{}{} \"SELECT r.id, r.status, r.error FROM runs r JOIN sweep_runs s "
                   "ON s.id = r.id WHERE r.status IN ('failed', 'timeout')\"\n",
                   shell_word(sweep), variant.flags(), c.db_flag());
    return 0;
}

} // namespace iclr
