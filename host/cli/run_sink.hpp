// The CLI's RunSink: writes what the scheduler reports to the store and draws the progress line.
#pragma once

#include <chrono>
#include <deque>
#include <filesystem>

#include "cli/cache_growth.hpp"
#include "cli/progress.hpp"
#include "exec/scheduler.hpp"
#include "exec/sink.hpp"
#include "store/store.hpp"

namespace iclr {

class StoreSink : public RunSink {
  public:
    // cache_dir: the cache whose size limit (`iclr cache limit`) is kept during the run, after each
    // trial that wrote an entry to it; "" keeps none.
    StoreSink(Store& store, Progress& progress, std::filesystem::path cache_dir = {})
        : store_(store), progress_(progress), cache_growth_(std::move(cache_dir)) {}
    void run_started(const RunStart& s) override;
    void metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) override;
    void attribute(int64_t run, const std::string& key, const std::string& value) override;
    void artifact(int64_t run, const std::string& name, const std::string& path) override;
    void run_finished(const RunEnd& e, const std::string& label) override;
    // Commits batched metric rows at most every 250 ms: one transaction per row would cap
    // ingestion at a few thousand rows a second.
    void idle() override;
    void flush();

  private:
    Store& store_;
    Progress& progress_;
    CacheGrowth cache_growth_;
    std::chrono::steady_clock::time_point last_commit_ = std::chrono::steady_clock::now();
};

// The queue on `pool` (reuse_or_start's, given `sink` or a sink around it), the store's batched rows
// written at its end; the progress line cleared however it ends.
SchedulerResult run_recorded(Scheduler& pool, std::deque<QueuedTrial> queue, StoreSink& sink, Progress& progress);

} // namespace iclr
