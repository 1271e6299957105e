// Worker process plumbing: fork/exec, pipes, non-blocking reads, kill and reap.
#include "exec/worker_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/errors.hpp"

extern char** environ;

namespace iclr {
namespace {

void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_worker(const char* exe, char* const* envp, pid_t parent, int in, int log, int rec,
                              int64_t memory_mb) {
    setpgid(0, 0);                    // Ctrl-C at the terminal reaches the host only
    prctl(PR_SET_PDEATHSIG, SIGKILL); // a host killed with -9 leaves no orphans
    if (getppid() != parent) _exit(1);
    dup2(in, 0);
    dup2(log, 1);
    dup2(log, 2);
    dup2(rec, protocol::kRecordFd);
    if (memory_mb > 0) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = rlim_t(memory_mb) * 1024 * 1024;
        setrlimit(RLIMIT_AS, &rl);
    }
    signal(SIGPIPE, SIG_DFL);
    char* const argv[] = {const_cast<char*>("iclr"), const_cast<char*>("__worker"), nullptr};
    execve(exe, argv, envp);
    _exit(127);
}

// This process's environment with the worker's nonce added (built before fork: the child may only
// make async-signal-safe calls).
std::vector<std::string> worker_environment(const std::string& nonce, const std::string& gpu) {
    std::vector<std::string> env;
    std::string prefix = std::string(protocol::kNonceEnv) + "=";
    const std::string_view cuda = "CUDA_VISIBLE_DEVICES=";
    for (char** e = environ; e && *e; ++e) {
        std::string_view v(*e);
        if (v.substr(0, prefix.size()) == prefix || (!gpu.empty() && v.substr(0, cuda.size()) == cuda)) continue;
        env.emplace_back(*e);
    }
    env.push_back(prefix + nonce);
    if (!gpu.empty()) env.push_back(std::string(cuda) + gpu);
    return env;
}

} // namespace

WorkerProcess::WorkerProcess(const std::string& exe, int64_t memory_mb, const std::string& gpu)
    : nonce_(protocol::make_nonce()) {
    int to_child[2], recs[2], logs[2];
    if (pipe2(to_child, O_CLOEXEC) || pipe2(recs, O_CLOEXEC) || pipe2(logs, O_CLOEXEC))
        throw HostError(std::string("cannot create worker pipes: ") + std::strerror(errno));
    std::vector<std::string> env = worker_environment(nonce_, gpu);
    std::vector<char*> envp;
    for (auto& e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw HostError(std::string("cannot start a worker: ") + std::strerror(errno));
    if (pid_ == 0) exec_worker(exe.c_str(), envp.data(), parent, to_child[0], logs[1], recs[1], memory_mb);
    setpgid(pid_, pid_); // also here, so that a kill of the group cannot race the child's own call
    exit_fd_ = int(syscall(SYS_pidfd_open, pid_, 0));
    close(to_child[0]);
    close(recs[1]);
    close(logs[1]);
    in_fd_ = to_child[1];
    rec_fd_ = recs[0];
    log_fd_ = logs[0];
    fcntl(rec_fd_, F_SETFL, O_NONBLOCK);
    fcntl(log_fd_, F_SETFL, O_NONBLOCK);
    // One page where the user's pipes are over the kernel's soft limit, 64 KiB otherwise.
    if (int n = fcntl(in_fd_, F_GETPIPE_SZ); n > 0) input_capacity_ = size_t(n);
}

WorkerProcess::~WorkerProcess() {
    if (!reaped_ && pid_ > 0) {
        ::kill(-pid_, SIGKILL);
        int st;
        while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
    }
    close_fd(in_fd_);
    close_fd(rec_fd_);
    close_fd(log_fd_);
    close_fd(exit_fd_);
}

bool WorkerProcess::exited() const {
    if (reaped_) return true;
    siginfo_t info{};
    if (waitid(P_PID, id_t(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
    return info.si_pid == pid_;
}

bool WorkerProcess::send(std::string_view bytes) {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0 && in_fd_ >= 0) {
        ssize_t n = write(in_fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false; // EPIPE: the worker died
        p += n;
        left -= size_t(n);
    }
    return left == 0;
}

void WorkerProcess::close_input() { close_fd(in_fd_); }

void WorkerProcess::read_records(const OnRecord& on_record) {
    char buf[1 << 16];
    while (rec_fd_ >= 0 && channel_error_.empty()) {
        ssize_t n = read(rec_fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            records_.take_rest(); // a truncated record is not a record
            close_fd(rec_fd_);
            return;
        }
        records_.append(buf, size_t(n), [&](std::string_view line, bool cut) {
            if (!channel_error_.empty()) return;
            auto r = cut ? std::nullopt : protocol::parse_framed(nonce_, line);
            if (r) return on_record(*r);
            std::string shown(line.substr(0, 60));
            for (char& c : shown)
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
            channel_error_ = "the worker's record channel carried a line that is not a record (\"" + shown +
                             (line.size() > 60 ? "...\")" : "\")") +
                             ": something in the worker wrote into it, so its records cannot be trusted";
        });
    }
}

void WorkerProcess::read_log(const OnLogLine& on_line) {
    char buf[65536];
    while (log_fd_ >= 0) {
        ssize_t n = read(log_fd_, buf, sizeof buf);
        if (n > 0) {
            log_.append(buf, size_t(n), on_line);
        } else if (n == 0) {
            std::string rest = log_.take_rest();
            if (!rest.empty()) on_line(rest, false);
            close_fd(log_fd_);
        } else if (errno != EINTR) {
            break; // EAGAIN: nothing more now
        }
    }
}

void WorkerProcess::kill(int sig) {
    if (!reaped_ && pid_ > 0) ::kill(-pid_, sig);
}

int WorkerProcess::reap(const OnRecord& on_record, const OnLogLine& on_log_line) {
    // The group goes first, while the worker (alive or a zombie) still holds the group's id, so
    // the id cannot have been reused; what the plugins started goes with it.
    read_records(on_record);
    read_log(on_log_line);
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    close_fd(in_fd_);
    close_fd(rec_fd_);
    close_fd(log_fd_);
    close_fd(exit_fd_);
    return status;
}

} // namespace iclr
