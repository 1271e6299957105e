// The RunSink of a Slurm array task: every event into the task's own journal file, never SQLite.
#pragma once

#include <chrono>
#include <map>

#include "cli/cache_growth.hpp"
#include "cli/progress.hpp"
#include "exec/sink.hpp"
#include "journal/journal_file.hpp"

namespace iclr {

class JournalSink : public RunSink {
  public:
    // keys: run id -> trial key, written with each start record (sync checks it against the plan);
    // cache_dir: the cache whose size limit is kept after each trial that wrote an entry to it.
    JournalSink(journal::Writer& writer, std::map<int64_t, std::string> keys, Progress& progress,
                std::filesystem::path cache_dir)
        : writer_(writer), keys_(std::move(keys)), progress_(progress), cache_growth_(std::move(cache_dir)) {}
    void run_started(const RunStart& s) override;
    void metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) override;
    void attribute(int64_t run, const std::string& key, const std::string& value) override;
    void artifact(int64_t run, const std::string& name, const std::string& path) override;
    // Written and fdatasync'ed before the scheduler goes on: a finished trial survives a kill.
    void run_finished(const RunEnd& e, const std::string& label) override;
    // Writes batched records at most every 250 ms (a kill loses at most that much of a curve).
    void idle() override;

  private:
    journal::Writer& writer_;
    std::map<int64_t, std::string> keys_;
    Progress& progress_;
    CacheGrowth cache_growth_;
    std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

} // namespace iclr
