// `iclr run` over several sweep files: every file read and its plugins found before anything runs,
// then each sweep in turn, as `iclr run FILE` runs it alone, into the same database.
#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "plugin/plugin_registry.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// Each file read, its arms expanded lazily and its plugins resolved, so that a typo in the last
// file is found before the first sweep trains for hours; returns how many cannot be read.
size_t unreadable_sweeps(const RunOptions& o) {
    PluginRegistry reg;
    reg.discover();
    size_t bad = 0;
    for (const std::string& sweep : o.sweeps) {
        try {
            load_sweep(sweep, o.variant, reg);
        } catch (const UserError& e) {
            print_error(e);
            ++bad;
        }
    }
    return bad;
}

// The files as one shell command's arguments.
std::string words(const std::vector<std::string>& files) {
    std::string out;
    for (const std::string& f : files)
        out += " " + shell_word(f);
    return out;
}

} // namespace

// A sweep that ends with failures, or whose run is refused (its constructor check, another run of
// it writing to the database), leaves the others to run: the exit status is the worst. A stop
// signal stops the sweep running, as alone, and starts no other.
int run_several(const RunOptions& o) {
    say_stop_signals(" while reading the sweeps and their plugins; nothing was recorded");
    if (size_t bad = unreadable_sweeps(o)) {
        fmt::print(stderr, "iclr run: nothing was run: {} of the {} sweep file(s) cannot be read (above)\n", bad,
                   o.sweeps.size());
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
        if (rc >= 128) {
            std::vector<std::string> rest(o.sweeps.begin() + std::ptrdiff_t(i) + 1, o.sweeps.end());
            if (!rest.empty()) fmt::print("not started:{}\n", words(rest));
            return rc;
        }
        if (rc) incomplete.push_back(one.sweep);
        exit = std::max(exit, rc);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("\n{} sweep(s) in {}{}\n", o.sweeps.size(), format_duration(secs),
               incomplete.empty() ? "" : "; not every trial done in:" + words(incomplete));
    fmt::print("claims: iclr verify{}{}{}\n", words(o.sweeps), o.variant.flags(), o.common.db_flag());
    return exit;
}

} // namespace iclr
