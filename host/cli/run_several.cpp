// `iclr run` over several sweep files: every file read, its plugins found and their constructors
// checked before anything runs, then each sweep in turn, as `iclr run FILE` runs it alone, into the
// same database, on workers kept from one sweep to the next.
#include <algorithm>
#include <chrono>
#include <iterator>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/constructor_check.hpp"
#include "cli/query_check.hpp"
#include "cli/run_plan.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "exec/stop_signal.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/run_lock.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// Each file read, its arms expanded lazily and its plugins resolved, so that a typo in the last
// file is found before the first sweep trains for hours.
struct ReadSweeps {
    PluginRegistry reg; // what `arms` point into
    std::vector<SweepArms> arms;
    size_t unreadable = 0;
    bool claims = false; // one states a [[claim]]: the closing line names `iclr verify`
};

void read_sweeps(const RunOptions& o, ReadSweeps& out) {
    out.reg.discover();
    for (const std::string& sweep : o.sweeps) {
        try {
            out.arms.push_back(load_sweep(sweep, o.variant, out.reg));
            check_run_size(out.arms.back(), sweep); // as cmd_run refuses it, but before any sweep runs
            check_queries(out.arms.back().base());
            out.claims = !out.arms.back().base().claims.empty() || out.claims;
        } catch (const UserError& e) {
            print_error(e);
            ++out.unreadable;
        }
    }
}

// Every sweep's constructor check (cli/constructor_check.hpp), its data sets loaded as its run
// would, on one worker kept from one to the next and then for the first sweep's trials: what a
// plugin refuses in the last sweep is found before the first runs, and libtorch loads once.
// Returns the exit status when nothing may run (a sweep refused, a stop signal), else 0.
int check_sweeps(const RunOptions& o, const ReadSweeps& read, std::unique_ptr<Scheduler>& pool) {
    auto start = std::chrono::steady_clock::now();
    install_stop_handlers(); // a stop signal ends the check: nothing is recorded yet
    ResultsLayout layout(o.common.db_path());
    std::string data_dir = absolute_path(o.common.data_dir());
    size_t refused = 0, configurations = 0;
    int workers = 1;
    for (size_t i = 0; i < read.arms.size(); ++i) {
        RunOptions one = o;
        one.sweep = o.sweeps[i];
        try {
            ConstructorCheck c =
                check_constructors(read.arms[i], run_check_settings(one, read.arms[i].base(), data_dir, layout), &pool);
            configurations += c.configurations;
            workers = std::max(workers, c.workers);
            if (c.stop_signal) {
                fmt::print("stopped by {} while building the plugin configurations; nothing was recorded\n",
                           signal_name(c.stop_signal));
                return 128 + c.stop_signal;
            }
        } catch (const UserError& e) {
            print_error(e);
            ++refused;
        }
    }
    if (refused) {
        fmt::print(stderr, "iclr run: nothing was run: {} of the {} sweep file(s) refused (above)\n", refused,
                   o.sweeps.size());
        return 2;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("constructors: {} plugin configuration(s) of the {} sweeps built in {} and accepted ({})\n\n",
               configurations, read.arms.size(), workers == 1 ? "a worker" : fmt::format("{} workers", workers),
               format_duration(secs));
    return 0;
}

// A stop signal while the sweeps are submitted ends the command: the array jobs already submitted
// run on, unfollowed.
void say_not_followed(const Handover& handover) {
    if (!handover.follow_later || handover.follow_later->empty()) return;
    std::vector<std::string> folders;
    for (const auto& s : *handover.follow_later)
        folders.push_back(s.folder.root().string());
    fmt::print("not followed; the array job(s) submitted go on: iclr status{}\n", shell_words(folders));
}

// The sweeps' pool keys (pool_key): consecutive files with the same one run as one queue.
std::vector<std::string> pool_keys(const RunOptions& o, const ReadSweeps& read) {
    std::vector<std::string> keys;
    for (const auto& arms : read.arms)
        keys.push_back(pool_key(o, arms.base()));
    return keys;
}

// One sweep as `iclr run FILE` runs it, or several in one queue (run_group), given the files as read
// (`arms`); a refusal (a UserError: the database held by another run) is said and the sweeps go unrun,
// and after a stop signal none of them starts.
GroupOutcome run_files(const RunOptions& o, const std::vector<std::string>& files, std::vector<SweepArms> arms,
                       Handover& handover) {
    if (int signal = stop_signal()) return {128 + signal, {}, files, true}; // nothing of them recorded
    GroupOutcome out{2, files, {}};
    try {
        if (files.size() > 1) return run_group(o, files, std::move(arms), handover);
        RunOptions one = o;
        one.sweep = files.front();
        out.rc = run_read_sweep(one, arms.front(), &handover);
        if (out.rc == 0 || out.rc >= 128) out.incomplete.clear();
    } catch (const UserError& e) {
        print_error(e);
    }
    return out;
}

// Each sweep in turn, as `iclr run FILE` runs it alone, on the workers the one before kept, or
// consecutive sweeps with alike pools as one queue. On Slurm with --wait, each sweep's array jobs
// are submitted in turn and then followed together.
int run_in_turn(const RunOptions& o, Handover& handover, ReadSweeps& read,
                std::chrono::steady_clock::time_point start) {
    install_stop_handlers(); // a stop ends the command cleanly: run_files looks before each sweep records
    int exit = 0;
    std::vector<std::string> incomplete, keys = pool_keys(o, read);
    for (size_t i = 0, end = 1; i < o.sweeps.size(); i = end, end = i + 1) {
        while (end < o.sweeps.size() && !keys[i].empty() && keys[end] == keys[i])
            ++end;
        if (i) fmt::print("\n");
        handover.keep = end < o.sweeps.size();
        auto first = std::ptrdiff_t(i), last = std::ptrdiff_t(end);
        std::vector<SweepArms> arms(std::make_move_iterator(read.arms.begin() + first), // as read
                                    std::make_move_iterator(read.arms.begin() + last));
        GroupOutcome g = run_files(o, {o.sweeps.begin() + first, o.sweeps.begin() + last}, std::move(arms), handover);
        // A signal after the sweep's trials ended (its last lines, its cache limit) stops here too.
        bool late = g.rc < 128 && stop_signal();
        bool before = g.stopped_before || late;
        if (late) g.rc = 128 + stop_signal();
        if (g.rc >= 128) {
            g.not_started.insert(g.not_started.end(), o.sweeps.begin() + std::ptrdiff_t(end), o.sweeps.end());
            if (before && !g.not_started.empty())
                fmt::print("stopped by {} before the sweeps below recorded anything\n", signal_name(g.rc - 128));
            if (!g.not_started.empty()) fmt::print("not started:{}\n", shell_words(g.not_started));
            say_not_followed(handover);
            return g.rc;
        }
        incomplete.insert(incomplete.end(), g.incomplete.begin(), g.incomplete.end());
        exit = std::max(exit, g.rc);
    }
    if (handover.follow_later && !handover.follow_later->empty()) {
        fmt::print("\nfollowing the array jobs of {} sweep(s) together\n", handover.follow_later->size());
        int rc = follow_on_slurm(*open_store_for_run(o.common.db_path(), false), *handover.follow_later, &incomplete);
        if (rc >= 128) return rc;
        exit = std::max(exit, rc);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("\n{} sweep(s) in {}{}\n", o.sweeps.size(), format_duration(secs),
               incomplete.empty() ? "" : "; not every trial done in:" + shell_words(incomplete));
    if (read.claims)
        fmt::print("claims: iclr verify{}{}{}\n", shell_words(o.sweeps), o.variant.flags(), o.common.db_flag());
    return exit;
}

} // namespace

// A sweep that ends with failures, or whose run is refused (another run of it writing to the
// database), leaves the others to run: the exit status is the worst. A stop signal stops the
// sweep running, as alone, and starts no other.
int run_several(const RunOptions& o) {
    auto start = std::chrono::steady_clock::now();
    say_stop_signals(" while reading the sweeps and their plugins; nothing was recorded");
    ReadSweeps read;
    read_sweeps(o, read);
    if (read.unreadable) {
        fmt::print(stderr, "iclr run: nothing was run: {} of the {} sweep file(s) cannot be read (above)\n",
                   read.unreadable, o.sweeps.size());
        return 2;
    }
    Handover handover;
    if (!o.no_construct) {
        if (int rc = check_sweeps(o, read, handover.pool)) return rc;
        handover.checked = true;
    }
    if (o.launcher != "slurm" || !o.wait) return run_in_turn(o, handover, read, start);
    // One lock for every sweep's submission and the following: no other run writes in between.
    std::vector<SlurmSubmitted> submitted;
    RunLock lock(o.common.db_path(),
                 fmt::format("{} and {} more", read.arms.front().base().name, read.arms.size() - 1));
    handover.locked = true;
    handover.follow_later = &submitted;
    return run_in_turn(o, handover, read, start);
}

} // namespace iclr
