// WorkerProcess: one `iclr __worker` child with its three pipes: spawn, send, read, kill, reap.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "exec/protocol.hpp"

namespace iclr {

class WorkerProcess {
  public:
    // Forks and execs `exe __worker` as the leader of its own process group (Ctrl-C at the
    // terminal reaches the host only; kill() reaches whatever the plugins started), killed if the
    // host dies (PR_SET_PDEATHSIG), under an address-space limit when memory_mb > 0, with a fresh
    // record nonce, and CUDA_VISIBLE_DEVICES = gpu when gpu is not "" (the GPU it is pinned to).
    // Throws HostError when pipes or fork fail.
    WorkerProcess(const std::string& exe, int64_t memory_mb, const std::string& gpu = "");
    ~WorkerProcess(); // kills the group and reaps a child still running
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    pid_t pid() const { return pid_; }
    int record_fd() const { return rec_fd_; }
    int log_fd() const { return log_fd_; }
    // Readable when the worker has exited (a pidfd), or -1 where the kernel has none.
    int exit_fd() const { return exit_fd_; }
    bool can_send() const { return in_fd_ >= 0; }
    // How many bytes the worker's stdin pipe holds: a send() of more than it holds unread blocks.
    size_t input_capacity() const { return input_capacity_; }
    // The worker itself has exited (it may not be reaped yet). Its pipes may stay open: a child a
    // plugin started holds them, so the end of a worker is decided here, never by end of file.
    bool exited() const;

    // Writes all of bytes to the worker's stdin; false if the worker is gone (reap() reports why).
    bool send(std::string_view bytes);
    void close_input();
    // Read what is available, without blocking. on_record gets each well-framed record; a line
    // that is not one, or a record line longer than protocol::kMaxLine, is reported once through
    // channel_error() and reading stops. on_log_line gets each line (cut = a piece of a longer one).
    using OnRecord = std::function<void(const protocol::Record&)>;
    using OnLogLine = std::function<void(std::string_view, bool cut)>;
    void read_records(const OnRecord& on_record);
    void read_log(const OnLogLine& on_line);
    // The partial log line since the last newline (a trial's output without a final newline).
    std::string take_log_rest() { return log_.take_rest(); }
    // The record channel reached end of file: the worker exited, or it (or a plugin) closed it.
    bool records_closed() const { return rec_fd_ < 0; }
    // What was wrong with the record channel ("" when nothing): garbage, a forged record.
    const std::string& channel_error() const { return channel_error_; }

    void kill(int sig); // the whole process group
    // Kills what is left of the group, waits for the worker and returns its waitpid status.
    // Drains what the pipes hold first.
    int reap(const OnRecord& on_record, const OnLogLine& on_log_line);
    bool reaped() const { return reaped_; }

  private:
    pid_t pid_ = -1;
    int in_fd_ = -1, rec_fd_ = -1, log_fd_ = -1, exit_fd_ = -1;
    size_t input_capacity_ = 4096; // PIPE_BUF, the least a pipe holds, until the kernel says
    std::string nonce_;
    protocol::LineBuffer records_, log_;
    std::string channel_error_;
    bool reaped_ = false;
};

} // namespace iclr
