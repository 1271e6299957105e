// Worker process plumbing: fork/exec, pipes, non-blocking reads, kill and reap.
#include "exec/worker_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errors.hpp"

namespace iclr {
namespace {

void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_worker(const std::string& exe, pid_t parent, int in, int log, int rec, int64_t memory_mb) {
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
    execl(exe.c_str(), "iclr", "__worker", nullptr);
    _exit(127);
}

} // namespace

WorkerProcess::WorkerProcess(const std::string& exe, int64_t memory_mb) {
    int to_child[2], recs[2], logs[2];
    if (pipe2(to_child, O_CLOEXEC) || pipe2(recs, O_CLOEXEC) || pipe2(logs, O_CLOEXEC))
        throw HostError(std::string("cannot create worker pipes: ") + std::strerror(errno));
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw HostError(std::string("cannot start a worker: ") + std::strerror(errno));
    if (pid_ == 0) exec_worker(exe, parent, to_child[0], logs[1], recs[1], memory_mb);
    close(to_child[0]);
    close(recs[1]);
    close(logs[1]);
    in_fd_ = to_child[1];
    rec_fd_ = recs[0];
    log_fd_ = logs[0];
    fcntl(log_fd_, F_SETFL, O_NONBLOCK);
}

WorkerProcess::~WorkerProcess() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st;
        while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
    }
    close_fd(in_fd_);
    close_fd(rec_fd_);
    close_fd(log_fd_);
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

void WorkerProcess::read_records(const std::function<void(std::string_view)>& on_record) {
    if (rec_fd_ < 0) return;
    char buf[1 << 16];
    ssize_t n = read(rec_fd_, buf, sizeof buf);
    if (n > 0) {
        records_.append(buf, size_t(n), on_record);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        records_.take_rest(); // a truncated record is not a record
        close_fd(rec_fd_);
    }
}

void WorkerProcess::read_log(const std::function<void(std::string_view)>& on_line) {
    char buf[65536];
    while (log_fd_ >= 0) {
        ssize_t n = read(log_fd_, buf, sizeof buf);
        if (n > 0) {
            log_.append(buf, size_t(n), on_line);
        } else if (n == 0) {
            std::string rest = log_.take_rest();
            if (!rest.empty()) on_line(rest);
            close_fd(log_fd_);
        } else {
            break; // EAGAIN: nothing more now
        }
    }
}

void WorkerProcess::kill(int sig) {
    if (!reaped_ && pid_ > 0) ::kill(pid_, sig);
}

int WorkerProcess::reap(const std::function<void(std::string_view)>& on_log_line) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    read_log(on_log_line);
    close_fd(in_fd_);
    close_fd(rec_fd_);
    close_fd(log_fd_);
    return status;
}

} // namespace iclr
