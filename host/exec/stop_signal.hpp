// Ctrl-C, SIGTERM, SIGHUP (and Slurm's SIGUSR1) for a running sweep: a flag and a self-pipe the scheduler polls.
#pragma once

namespace iclr {

// Installs SIGINT/SIGTERM/SIGHUP/SIGUSR1 handlers (and ignores SIGPIPE); idempotent.
void install_stop_handlers();
// The first stop signal received, or 0.
int stop_signal();
// The read end of the self-pipe: readable once a stop signal arrived (poll it with the workers).
int stop_signal_fd();
// Empties the self-pipe after poll() reported it readable.
void drain_stop_signal_fd();

} // namespace iclr
