// iclr: the command-line entry point (CLI11; the options are cli/arguments.cpp's). No torch here:
// the worker library is loaded only by the hidden `__worker` command, in the worker processes
// (worker_entry.cpp).
#include <functional>

#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/parse_error.hpp"
#include "common/build_info.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "plugin/plugin_registry.hpp"
#include "worker_entry.hpp"

namespace {

// Runs a command: one line per problem, exit 2 for bad input and 1 for everything else; never a
// stack trace.
int guarded(const std::function<int()>& command) {
    try {
        return command();
    } catch (const iclr::UserError& e) { // a SweepError too: its diagnostics, a line each
        iclr::print_error(e);
        return 2;
    } catch (const std::exception& e) {
        iclr::print_error(e);
        return 1;
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "__worker") return iclr::worker_main();
    if (argc == 4 && std::string(argv[1]) == "__slurm-task")
        return guarded([&] { return iclr::cmd_slurm_task(argv[2], argv[3]); });
    if (argc >= 2 && std::string(argv[1]) == "__probe")
        return iclr::probe_main(std::vector<std::string>(argv + 2, argv + argc));

    CLI::App app{"iclr: rerun ICLR 2022 findings as small, reproducible experiments"};
    app.set_version_flag("--version", iclr::iclr_build());
    app.require_subcommand(1);
    iclr::Arguments cli(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return iclr::report_parse_error(app, e, argc, argv);
    }
    iclr::say_stop_signals(); // Ctrl-C gets its line whatever the command is doing
    return guarded([&] { return cli.dispatch(); });
}
