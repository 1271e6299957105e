// What is recorded when a run starts and ends: plain data shared by exec (which observes it)
// and store (which writes it), so neither layer needs the other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/run_status.hpp"

namespace iclr {

struct RunStart {
    int64_t run = 0;
    int64_t worker_pid = 0;
    int threads = 1;
    std::string device = "cpu", host, torch_version;
    std::string at;        // when it started (ISO 8601 UTC); "" = now, as the store writes it
    std::string kernels{}; // the worker's BLAS and ATen kernel sets: they move results in the last bits
};

struct RunEnd {
    int64_t run = 0;
    RunStatus status = RunStatus::Done;
    std::string error, log_tail;
    std::optional<int> exit_code, signal;
    double duration_s = 0;
    std::optional<int64_t> diverged_step; // Diverged: the step whose loss was not finite
    std::string at;                       // when it ended (ISO 8601 UTC); "" = now
};

} // namespace iclr
