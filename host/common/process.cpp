// POSIX process helpers.
#include "common/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/text_file.hpp"

namespace iclr {

std::string self_exe() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : p.string();
}

std::string exe_dir() { return std::filesystem::path(self_exe()).parent_path().string(); }

std::string shell_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string shell_word(const std::string& s) {
    auto plain = [](unsigned char c) { return std::isalnum(c) || (c && std::strchr("_-./+=:,@%", c)); };
    return !s.empty() && std::all_of(s.begin(), s.end(), plain) ? s : shell_quoted(s);
}

std::string shell_words(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words)
        out += " " + shell_word(w);
    return out;
}

namespace {

// Forks argv[0] in a process group of its own, its stdout into out_fd, stdin (and, when quiet,
// stderr) from /dev/null; it dies with this process. Returns its pid, or -1.
pid_t spawn_into(const std::vector<std::string>& argv, int out_fd, bool quiet_stderr) {
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        dup2(out_fd, 1);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        if (quiet_stderr) dup2(devnull, 2);
        execv(args[0], args.data());
        _exit(127);
    }
    if (pid > 0) setpgid(pid, pid);
    return pid;
}

// Reads fd to its end into c.out; sets c.timed_out when nothing came for idle_timeout_s (> 0).
void read_all(int fd, double idle_timeout_s, Captured& c) {
    char buf[65536];
    for (;;) {
        pollfd pfd{fd, POLLIN, 0};
        int ready = poll(&pfd, 1, idle_timeout_s > 0 ? int(idle_timeout_s * 1000) : -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) { // silent for too long: hung
            c.timed_out = true;
            return;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0)
            c.out.append(buf, size_t(n));
        else if (n == 0 || errno != EINTR)
            return;
    }
}

} // namespace

Captured run_capture(const std::vector<std::string>& argv, bool quiet_stderr, double idle_timeout_s) {
    Captured c;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        c.status = -1;
        return c;
    }
    pid_t pid = spawn_into(argv, fds[1], quiet_stderr);
    close(fds[1]);
    if (pid > 0) read_all(fds[0], idle_timeout_s, c);
    close(fds[0]);
    if (pid < 0) {
        c.status = -1;
        return c;
    }
    if (c.timed_out) kill(-pid, SIGKILL);
    // Wait for the child's exit without reaping it, so its id (the group's) stays taken while
    // anything it left running in the group is killed; then reap.
    siginfo_t info{};
    while (waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, &c.status, 0) < 0 && errno == EINTR) {
    }
    return c;
}

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

namespace {

const char* volatile g_stop_note = "";

// Only write(2), signal(2) and raise(3) here: all async-signal-safe.
void say_and_die(int sig) {
    const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
    for (const char* part : {"iclr: stopped by ", name, const_cast<const char*>(g_stop_note), "\n"})
        if (write(STDERR_FILENO, part, strlen(part)) < 0) {
        }
    signal(sig, SIG_DFL);
    raise(sig);
}

} // namespace

void say_stop_signals(const char* note) {
    g_stop_note = note;
    struct sigaction sa {};
    sa.sa_handler = say_and_die;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        sigaction(sig, &sa, nullptr);
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "signal " + std::to_string(WTERMSIG(status)) + " (" + signal_name(WTERMSIG(status)) + ")";
    return "status " + std::to_string(status);
}

std::vector<ChildProcess> child_processes(int parent) {
    std::vector<ChildProcess> out;
    std::error_code ec;
    std::string me = std::to_string(parent ? parent : getpid());
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        // A process exiting mid-read fails the read (ESRCH): gone, not a child to wait for.
        auto text = read_text_file((e.path() / "stat").string(), 4096);
        if (!text) continue;
        const std::string& stat = *text;
        auto close = stat.rfind(')'); // the command name may hold spaces and parentheses
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 1));
        std::string state, ppid;
        if (rest >> state >> ppid && ppid == me) out.push_back({std::stoi(name), state == "Z"});
    }
    return out;
}

int kill_children() {
    int killed = 0;
    // A killed process's own children are adopted only once it has exited: look again until a
    // look finds none (bounded: a fork bomb is not this function's problem).
    for (int round = 0; round < 50; ++round) {
        auto children = child_processes();
        if (children.empty()) {
            if (round > 0) break;
            usleep(20000); // give orphans whose parent is exiting now one chance to arrive
            continue;
        }
        for (auto [pid, zombie] : children) {
            if (!zombie) kill(pid, SIGKILL);
            int st;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            killed += !zombie;
        }
        usleep(20000);
    }
    return killed;
}

int available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? int(n) : 1;
}

// Asked once: every trial's start records it, and a system call is not free in a VM.
std::string host_name() {
    static const std::string name = [] {
        char buf[256] = {0};
        gethostname(buf, sizeof buf - 1);
        return std::string(buf);
    }();
    return name;
}

} // namespace iclr
