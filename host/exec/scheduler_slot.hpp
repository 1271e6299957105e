// Scheduler::Slot: one worker process of the pool and what it runs (scheduler*.cpp only).
#pragma once

#include <chrono>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "exec/scheduler.hpp"
#include "exec/worker_process.hpp"

namespace iclr {

struct Scheduler::Slot {
    Slot(const std::string& exe, int64_t memory_mb, std::string gpu_id)
        : proc(exe, memory_mb, gpu_id), gpu(std::move(gpu_id)) {}
    WorkerProcess proc;
    std::string gpu; // the GPU it is pinned to ("" = none)
    bool ready = false;
    int64_t run = -1;         // the trial it runs, or -1 when idle
    bool own_threads = false; // that trial has its own thread count (QueuedTrial::threads)
    std::string label;
    Clock::time_point started;
    double timeout_s = 0; // its trial's (QueuedTrial::timeout_s, else the pool's); 0 = none
    bool timed_out = false;
    std::string device = "cpu", torch_version, kernels;
    std::deque<std::string> tail;
    bool mid_line = false; // the last log piece was cut from a longer line
    std::unique_ptr<std::ofstream> log_file;
    bool killed_by_host = false; // for a channel problem or to give up: not a startup failure
    std::string channel_problem; // why it was killed for its record channel
    std::optional<Clock::time_point> records_closed_at;
    // It reported a cancelled trial: a worker exits after one (worker_main), so a trial sent to it
    // now would be recorded as a worker that died.
    bool leaving = false;
    bool exit_seen = false; // poll() saw its exit fd readable: worth asking whether it exited
    // construct_only: the checks sent after the one it runs, in the order the worker reads them.
    struct Sent {
        QueuedTrial q;
        std::string label;
        size_t bytes = 0;
    };
    std::deque<Sent> ahead;
    size_t run_bytes = 0; // the command of `run`
    // The commands of `run` and `ahead`, some maybe still unread in the worker's pipe.
    size_t sent_bytes() const {
        size_t n = run_bytes;
        for (const auto& a : ahead)
            n += a.bytes;
        return n;
    }
    bool alive() const { return !proc.reaped(); }
    bool idle() const { return alive() && ready && run < 0 && !leaving; }
};

} // namespace iclr
