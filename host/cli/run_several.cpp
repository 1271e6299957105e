// `iclr run` over several sweep files: every file read and its plugins found before anything runs,
// then each sweep in turn, as `iclr run FILE` runs it alone, into the same database.
#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/run_plan.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "exec/stop_signal.hpp"
#include "plugin/plugin_registry.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// Each file read, its arms expanded lazily and its plugins resolved, so that a typo in the last
// file is found before the first sweep trains for hours.
struct ReadSweeps {
    size_t unreadable = 0;
    bool claims = false; // one states a [[claim]]: the closing line names `iclr verify`
};

ReadSweeps read_sweeps(const RunOptions& o) {
    PluginRegistry reg;
    reg.discover();
    ReadSweeps out;
    for (const std::string& sweep : o.sweeps) {
        try {
            SweepArms arms = load_sweep(sweep, o.variant, reg);
            check_run_size(arms, sweep); // as cmd_run refuses it, but before any sweep runs
            out.claims = !arms.base().claims.empty() || out.claims;
        } catch (const UserError& e) {
            print_error(e);
            ++out.unreadable;
        }
    }
    return out;
}

} // namespace

// A sweep that ends with failures, or whose run is refused (its constructor check, another run of
// it writing to the database), leaves the others to run: the exit status is the worst. A stop
// signal stops the sweep running, as alone, and starts no other.
int run_several(const RunOptions& o) {
    say_stop_signals(" while reading the sweeps and their plugins; nothing was recorded");
    ReadSweeps read = read_sweeps(o);
    if (read.unreadable) {
        fmt::print(stderr, "iclr run: nothing was run: {} of the {} sweep file(s) cannot be read (above)\n",
                   read.unreadable, o.sweeps.size());
        return 2;
    }
    auto start = std::chrono::steady_clock::now();
    int exit = 0;
    std::vector<std::string> incomplete;
    for (size_t i = 0; i < o.sweeps.size(); ++i) {
        RunOptions one = o;
        one.sweep = o.sweeps[i];
        if (i) fmt::print("\n");
        int rc = 2;
        try {
            rc = cmd_run(one);
        } catch (const UserError& e) {
            print_error(e);
        }
        // A signal after the sweep's trials ended (its last lines, its cache limit) stops here too.
        if (rc < 128 && stop_signal()) rc = 128 + stop_signal();
        if (rc >= 128) {
            if (i + 1 < o.sweeps.size())
                fmt::print("not started:{}\n", shell_words({o.sweeps.begin() + std::ptrdiff_t(i) + 1, o.sweeps.end()}));
            return rc;
        }
        if (rc) incomplete.push_back(one.sweep);
        exit = std::max(exit, rc);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("\n{} sweep(s) in {}{}\n", o.sweeps.size(), format_duration(secs),
               incomplete.empty() ? "" : "; not every trial done in:" + shell_words(incomplete));
    if (read.claims)
        fmt::print("claims: iclr verify{}{}{}\n", shell_words(o.sweeps), o.variant.flags(), o.common.db_flag());
    return exit;
}

} // namespace iclr
