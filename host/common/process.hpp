// Small POSIX process helpers: our own executable, capture a child's stdout, describe exit statuses.
#pragma once

#include <string>
#include <vector>

namespace iclr {

std::string self_exe();
std::string exe_dir();

struct Captured {
    int status = 0; // as from waitpid
    std::string out;
};
// Runs argv (argv[0] a path) with stdin from /dev/null; stderr is passed through unless quiet.
Captured run_capture(const std::vector<std::string>& argv, bool quiet_stderr = false);

// "exit 3", "signal 11 (SIGSEGV)".
std::string describe_status(int status);
std::string signal_name(int sig);

// Logical cores this process may use (affinity-aware).
int available_cores();
std::string host_name();

} // namespace iclr
