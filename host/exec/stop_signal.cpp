// Signal handlers that only set a flag and write a byte, so poll() wakes up at once.
#include "exec/stop_signal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "common/errors.hpp"

namespace iclr {
namespace {

int g_pipe[2] = {-1, -1};
volatile sig_atomic_t g_signal = 0;

void on_stop_signal(int sig) {
    if (g_signal == 0) g_signal = sig;
    int saved = errno;
    char c = char(sig);
    if (write(g_pipe[1], &c, 1) < 0) {
    }
    errno = saved;
}

} // namespace

void install_stop_handlers() {
    if (g_pipe[0] < 0 && pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw HostError("cannot create signal pipe");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);  // a closed terminal or ssh session stops the sweep cleanly too
    sigaction(SIGUSR1, &sa, nullptr); // Slurm's warning before a time limit (job.sh: --signal=B:USR1)
    signal(SIGPIPE, SIG_IGN);
}

int stop_signal() { return int(g_signal); }
int stop_signal_fd() { return g_pipe[0]; }

void drain_stop_signal_fd() {
    char c;
    while (g_pipe[0] >= 0 && read(g_pipe[0], &c, 1) > 0) {
    }
}

} // namespace iclr
