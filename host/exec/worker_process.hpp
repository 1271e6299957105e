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
    // Forks and execs `exe __worker` in its own process group (Ctrl-C at the terminal reaches the
    // host only), killed if the host dies (PR_SET_PDEATHSIG), under an address-space limit when
    // memory_mb > 0. Throws HostError when pipes or fork fail.
    WorkerProcess(const std::string& exe, int64_t memory_mb);
    ~WorkerProcess(); // kills and reaps a child still running
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    pid_t pid() const { return pid_; }
    int record_fd() const { return rec_fd_; }
    int log_fd() const { return log_fd_; }
    bool can_send() const { return in_fd_ >= 0; }
    // Both output pipes closed: the child has exited (or closed them); reap() will not block long.
    bool outputs_closed() const { return rec_fd_ < 0 && log_fd_ < 0; }

    // Writes all of bytes to the worker's stdin; false if the worker is gone (reap() reports why).
    bool send(std::string_view bytes);
    void close_input();
    // Reads what is available; calls on_record / on_log_line for each complete line. A pipe at
    // end of stream is closed (its partial last line delivered).
    void read_records(const std::function<void(std::string_view)>& on_record);
    void read_log(const std::function<void(std::string_view)>& on_line);
    void kill(int sig);
    // Waits for the child; returns its waitpid status. Drains the log first.
    int reap(const std::function<void(std::string_view)>& on_log_line);
    bool reaped() const { return reaped_; }

  private:
    pid_t pid_ = -1;
    int in_fd_ = -1, rec_fd_ = -1, log_fd_ = -1;
    protocol::LineBuffer records_, log_;
    bool reaped_ = false;
};

} // namespace iclr
