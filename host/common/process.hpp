// Small POSIX process helpers: our own executable, capture a child's stdout, describe exit statuses.
#pragma once

#include <string>
#include <vector>

namespace iclr {

std::string self_exe();
std::string exe_dir();

// `s` single-quoted as one shell word ('it'\''s').
std::string shell_quoted(const std::string& s);
// The same for a command printed to be copied, left as it is when every character is plain
// (letters, digits, _ - . / + = : , @ %).
std::string shell_word(const std::string& s);
// Each word as shell_word writes it, after a space each: " a.toml 'b c.toml'" (appended to a command).
std::string shell_words(const std::vector<std::string>& words);

struct Captured {
    int status = 0; // as from waitpid
    std::string out;
    bool timed_out = false; // killed for printing nothing for idle_timeout_s
};
// Runs argv (argv[0] a path) with stdin from /dev/null, in its own process group that dies with
// this process; stderr is passed through unless quiet. With idle_timeout_s > 0 the group is
// killed when the child prints nothing for that long. Whatever the child left running in its
// group is killed when it ends.
Captured run_capture(const std::vector<std::string>& argv, bool quiet_stderr = false, double idle_timeout_s = 0);

// "exit 3", "signal 11 (SIGSEGV)".
std::string describe_status(int status);
std::string signal_name(int sig);

// Until a command installs handlers of its own (exec/stop_signal.hpp, for a running sweep),
// SIGINT, SIGTERM and SIGHUP print one line, "iclr: stopped by SIGINT" and `note`, on stderr and
// then end the process by that same signal, as with no handler: the exit status a shell sees
// stays 130, and a script running iclr in a loop stops too. `note` must outlive the process (a
// string literal); calling again replaces it.
void say_stop_signals(const char* note = "");

// The processes whose parent is `parent` (0: this process), from /proc: e.g. orphans adopted as a
// subreaper, or the probe a test waits to see its iclr start.
struct ChildProcess {
    int pid = 0;
    bool zombie = false; // exited, not yet reaped
};
std::vector<ChildProcess> child_processes(int parent = 0);
// Kills (SIGKILL) and reaps every child of this process, waiting briefly for orphans still on
// their way to being adopted; returns how many were still running. For a subreaper at the end of
// its work.
int kill_children();

// Logical cores this process may use (affinity-aware).
int available_cores();
std::string host_name();

} // namespace iclr
