// Worker pool: poll() over every worker's record and log pipes; the host is the only DB writer.
#include "scheduler.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "process.hpp"
#include "protocol.hpp"

namespace iclr {
namespace {

using Clock = std::chrono::steady_clock;

int g_signal_pipe[2] = {-1, -1};
volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) {
    if (g_stop_signal == 0) g_stop_signal = sig;
    int saved = errno;
    char c = char(sig);
    if (write(g_signal_pipe[1], &c, 1) < 0) {
    }
    errno = saved;
}

constexpr size_t kLogTailLines = 40;

struct Worker {
    pid_t pid = -1;
    int in_fd = -1, rec_fd = -1, log_fd = -1;
    std::string rec_buf, log_buf;
    bool ready = false;
    bool exited = false;
    int64_t run = -1;
    std::string label;
    Clock::time_point started;
    bool timed_out = false;
    std::string device = "cpu", torch_version;
    std::deque<std::string> tail;
    std::unique_ptr<std::ofstream> log_file;
};

void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
}

} // namespace

void install_stop_handlers() {
    if (g_signal_pipe[0] < 0) {
        if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw HostError("cannot create signal pipe");
    }
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

Scheduler::Scheduler(Store& store, SchedulerOptions opts, Progress& progress)
    : store_(store), opts_(std::move(opts)), progress_(progress) {}

SchedulerResult Scheduler::run(std::deque<QueuedTrial> queue) {
    SchedulerResult result;
    std::vector<std::unique_ptr<Worker>> workers;
    std::string exe = self_exe();
    auto last_commit = Clock::now();
    bool stopping = false;
    Clock::time_point stop_deadline;
    int startup_failures = 0; // workers that died before saying ready
    std::string startup_tail;

    auto spawn = [&]() -> std::unique_ptr<Worker> {
        int to_child[2], recs[2], logs[2];
        if (pipe2(to_child, O_CLOEXEC) || pipe2(recs, O_CLOEXEC) || pipe2(logs, O_CLOEXEC))
            throw HostError(std::string("cannot create worker pipes: ") + std::strerror(errno));
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) throw HostError(std::string("cannot start a worker: ") + std::strerror(errno));
        if (pid == 0) {
            setpgid(0, 0);                    // Ctrl-C at the terminal reaches the host only
            prctl(PR_SET_PDEATHSIG, SIGKILL); // a host killed with -9 leaves no orphans
            if (getppid() != parent) _exit(1);
            dup2(to_child[0], 0);
            dup2(logs[1], 1);
            dup2(logs[1], 2);
            dup2(recs[1], protocol::kRecordFd);
            if (opts_.memory_mb > 0) {
                struct rlimit rl;
                rl.rlim_cur = rl.rlim_max = rlim_t(opts_.memory_mb) * 1024 * 1024;
                setrlimit(RLIMIT_AS, &rl);
            }
            signal(SIGPIPE, SIG_DFL);
            execl(exe.c_str(), "iclr", "__worker", nullptr);
            _exit(127);
        }
        close(to_child[0]);
        close(recs[1]);
        close(logs[1]);
        auto w = std::make_unique<Worker>();
        w->pid = pid;
        w->in_fd = to_child[1];
        w->rec_fd = recs[0];
        w->log_fd = logs[0];
        fcntl(w->log_fd, F_SETFL, O_NONBLOCK);
        return w;
    };

    auto log_line = [&](Worker& w, const std::string& line) {
        w.tail.push_back(line);
        if (w.tail.size() > kLogTailLines) w.tail.pop_front();
        if (w.log_file) *w.log_file << line << '\n';
    };
    auto drain_log = [&](Worker& w) {
        char buf[65536];
        while (w.log_fd >= 0) {
            ssize_t n = read(w.log_fd, buf, sizeof buf);
            if (n > 0) {
                w.log_buf.append(buf, size_t(n));
                size_t nl;
                while ((nl = w.log_buf.find('\n')) != std::string::npos) {
                    log_line(w, w.log_buf.substr(0, nl));
                    w.log_buf.erase(0, nl + 1);
                }
            } else if (n == 0) {
                if (!w.log_buf.empty()) {
                    log_line(w, w.log_buf);
                    w.log_buf.clear();
                }
                close_fd(w.log_fd);
            } else {
                break; // EAGAIN
            }
        }
    };
    auto tail_text = [](const Worker& w) {
        std::string s;
        for (const auto& l : w.tail)
            s += l + "\n";
        return s;
    };
    auto end_run = [&](Worker& w, RunEnd e) {
        if (w.run < 0) return;
        drain_log(w);
        e.duration_s = std::chrono::duration<double>(Clock::now() - w.started).count();
        e.log_tail = tail_text(w);
        store_.begin();
        store_.finish_run(w.run, e);
        store_.commit();
        last_commit = Clock::now();
        if (e.status == "done")
            ++result.done;
        else if (e.status == "interrupted")
            ++result.interrupted;
        else
            ++result.failed;
        progress_.finished(w.run, e.status, e.duration_s, w.label, e.error);
        if (w.log_file) w.log_file->flush();
        w.log_file.reset();
        w.run = -1;
        w.timed_out = false;
    };
    auto handle_record = [&](Worker& w, const std::string& line) {
        std::vector<std::string> f;
        size_t start = 0;
        while (true) {
            size_t tab = line.find('\t', start);
            f.push_back(line.substr(start, tab - start));
            if (tab == std::string::npos) break;
            start = tab + 1;
        }
        const std::string& t = f[0];
        if (t == "R") {
            w.ready = true;
            if (f.size() >= 3) w.device = f[2];
            if (f.size() >= 4) w.torch_version = f[3];
            return;
        }
        if (f.size() < 2) return;
        int64_t run = std::strtoll(f[1].c_str(), nullptr, 10);
        if (run != w.run) return; // a record of a trial already closed (e.g. timed out): ignore
        if (t == "M" && f.size() >= 6) {
            store_.begin();
            std::optional<int64_t> task;
            if (f[4] != "-") task = std::strtoll(f[4].c_str(), nullptr, 10);
            store_.add_metric(run, f[2], std::strtoll(f[3].c_str(), nullptr, 10), task,
                              std::strtod(f[5].c_str(), nullptr));
        } else if (t == "A" && f.size() >= 4) {
            store_.begin();
            store_.set_attribute(run, f[2], f[3]);
        } else if (t == "F" && f.size() >= 4) {
            std::error_code ec;
            auto bytes = std::filesystem::file_size(f[3], ec);
            store_.begin();
            store_.add_artifact(run, f[2], f[3], ec ? -1 : int64_t(bytes));
        } else if (t == "D") {
            end_run(w, RunEnd{"done", "", "", std::nullopt, std::nullopt, 0});
        } else if (t == "E" && f.size() >= 4) {
            end_run(w,
                    RunEnd{f[2] == "interrupted" ? "interrupted" : "failed", f[3], "", std::nullopt, std::nullopt, 0});
        }
    };
    auto read_records = [&](Worker& w) {
        char buf[1 << 16];
        ssize_t n = read(w.rec_fd, buf, sizeof buf);
        if (n > 0) {
            w.rec_buf.append(buf, size_t(n));
            size_t pos = 0, nl;
            while ((nl = w.rec_buf.find('\n', pos)) != std::string::npos) {
                handle_record(w, w.rec_buf.substr(pos, nl - pos));
                pos = nl + 1;
            }
            w.rec_buf.erase(0, pos);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            close_fd(w.rec_fd);
        }
    };
    auto reap = [&](Worker& w) {
        int status = 0;
        while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
        drain_log(w);
        w.exited = true;
        if (!w.ready && !stopping) {
            ++startup_failures;
            startup_tail =
                w.tail.empty() ? describe_status(status) : w.tail.back() + " (" + describe_status(status) + ")";
        }
        close_fd(w.in_fd);
        close_fd(w.rec_fd);
        close_fd(w.log_fd);
        if (w.run >= 0) {
            RunEnd e;
            if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
            if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
            if (w.timed_out) {
                e.status = "timeout";
                e.error = "exceeded the trial timeout of " + format_duration(opts_.timeout_s) + "; worker killed";
            } else if (stopping) {
                e.status = "interrupted";
                e.error = "stopped by " + signal_name(int(g_stop_signal));
            } else {
                e.status = "failed";
                e.error = "worker died: " + describe_status(status);
            }
            end_run(w, e);
        }
    };
    auto assign = [&](Worker& w, QueuedTrial q) {
        TrialText text = opts_.describe(q);
        w.run = q.run_id;
        w.label = text.label;
        w.started = Clock::now();
        w.tail.clear();
        std::error_code ec;
        std::filesystem::create_directories(opts_.logs_dir, ec);
        w.log_file = std::make_unique<std::ofstream>(opts_.logs_dir + "/run-" + std::to_string(q.run_id) + ".log",
                                                     std::ios::app);
        store_.begin();
        store_.mark_running(q.run_id, RunStart{int64_t(w.pid), opts_.threads, w.device, host_name(), w.torch_version});
        store_.commit();
        progress_.started();
        std::string msg = "TRIAL " + std::to_string(text.payload.size()) + "\n" + text.payload;
        const char* p = msg.data();
        size_t left = msg.size();
        while (left > 0) {
            ssize_t n = write(w.in_fd, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break; // the worker died; reap() records the failure
            p += n;
            left -= size_t(n);
        }
    };

    size_t target = size_t(std::max(1, opts_.jobs));
    try {
        while (true) {
            if (g_stop_signal && !stopping) {
                stopping = true;
                result.stop_signal = int(g_stop_signal);
                stop_deadline = Clock::now() + std::chrono::seconds(3);
                for (auto& w : workers)
                    if (!w->exited) kill(w->pid, SIGTERM);
            }
            if (stopping && Clock::now() > stop_deadline)
                for (auto& w : workers)
                    if (!w->exited) kill(w->pid, SIGKILL);

            // Keep the pool full while there is work; hand trials to ready, idle workers.
            if (!stopping) {
                size_t alive = 0;
                for (auto& w : workers)
                    alive += !w->exited;
                size_t busy_or_needed = 0;
                for (auto& w : workers)
                    busy_or_needed += (!w->exited && w->run >= 0);
                while (alive < target && alive < busy_or_needed + queue.size()) {
                    workers.push_back(spawn());
                    ++alive;
                }
                for (auto& w : workers) {
                    if (queue.empty()) break;
                    if (!w->exited && w->ready && w->run < 0) {
                        assign(*w, std::move(queue.front()));
                        queue.pop_front();
                    }
                }
                // Idle workers with nothing left to do are told to quit.
                if (queue.empty())
                    for (auto& w : workers)
                        if (!w->exited && w->ready && w->run < 0 && w->in_fd >= 0) {
                            if (write(w->in_fd, "QUIT\n", 5) < 0) {
                            }
                            close_fd(w->in_fd);
                        }
            }

            bool any_alive = false;
            for (auto& w : workers)
                any_alive = any_alive || !w->exited;
            if (!any_alive && (queue.empty() || stopping)) break;

            std::vector<pollfd> fds;
            std::vector<std::pair<Worker*, int>> who; // 0 = records, 1 = log
            fds.push_back({g_signal_pipe[0], POLLIN, 0});
            who.emplace_back(nullptr, -1);
            for (auto& w : workers) {
                if (w->exited) continue;
                if (w->rec_fd >= 0) {
                    fds.push_back({w->rec_fd, POLLIN, 0});
                    who.emplace_back(w.get(), 0);
                }
                if (w->log_fd >= 0) {
                    fds.push_back({w->log_fd, POLLIN, 0});
                    who.emplace_back(w.get(), 1);
                }
            }
            int n = poll(fds.data(), nfds_t(fds.size()), 100);
            if (n < 0 && errno != EINTR) throw HostError(std::string("poll: ") + std::strerror(errno));
            if (fds[0].revents) {
                char c;
                while (read(g_signal_pipe[0], &c, 1) > 0) {
                }
            }
            for (size_t k = 1; k < fds.size(); ++k) {
                if (!fds[k].revents) continue;
                Worker& w = *who[k].first;
                if (who[k].second == 0) {
                    if (w.rec_fd >= 0) read_records(w);
                } else {
                    drain_log(w);
                }
            }
            for (auto& w : workers)
                if (!w->exited && w->rec_fd < 0 && w->log_fd < 0) reap(*w);
            if (startup_failures >= 3) {
                for (auto& w : workers)
                    if (!w->exited) {
                        kill(w->pid, SIGKILL);
                        reap(*w);
                    }
                store_.commit();
                progress_.clear_line();
                throw HostError("workers die while starting (`iclr __worker`): " + startup_tail);
            }

            // Timeouts: the trial's worker is killed; reap() records TIMEOUT when its pipes close.
            if (opts_.timeout_s > 0)
                for (auto& w : workers)
                    if (!w->exited && w->run >= 0 && !w->timed_out &&
                        std::chrono::duration<double>(Clock::now() - w->started).count() > opts_.timeout_s) {
                        w->timed_out = true;
                        kill(w->pid, SIGKILL);
                    }
            if (store_.in_transaction() && Clock::now() - last_commit > std::chrono::milliseconds(250)) {
                store_.commit();
                last_commit = Clock::now();
            }
            progress_.tick();
            // Forget reaped workers so the pool's bookkeeping stays small on long sweeps.
            std::erase_if(workers, [](const std::unique_ptr<Worker>& w) { return w->exited; });
        }
    } catch (const std::exception& e) {
        // The database (or the disk under it) failed: stop every worker so nothing runs unrecorded.
        // Committed trials are safe (WAL); the trials that were running stay 'running' and the next
        // `iclr run` marks them interrupted and reruns them.
        for (auto& w : workers)
            if (!w->exited) {
                kill(w->pid, SIGKILL);
                int st;
                waitpid(w->pid, &st, 0);
                w->exited = true;
            }
        progress_.clear_line();
        throw HostError(std::string(e.what()) +
                        "; finished trials are kept: free the cause and run the same command again");
    }
    store_.commit();
    progress_.clear_line();
    return result;
}

} // namespace iclr
