// StoreSink: run starts and ends commit at once (they are what resume relies on); metric rows batch.
#include "cli/run_sink.hpp"

#include <filesystem>

namespace iclr {

void StoreSink::run_started(const RunStart& s) {
    store_.begin();
    store_.mark_running(s);
    flush();
    progress_.started(s.run);
}

void StoreSink::metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) {
    store_.begin();
    store_.add_metric(run, key, step, task, value);
}

void StoreSink::attribute(int64_t run, const std::string& key, const std::string& value) {
    store_.begin();
    store_.set_attribute(run, key, value);
    cache_growth_.attribute(key, value);
}

void StoreSink::artifact(int64_t run, const std::string& name, const std::string& path) {
    std::error_code ec;
    auto bytes = std::filesystem::file_size(path, ec);
    store_.begin();
    store_.add_artifact(run, name, path, ec ? -1 : int64_t(bytes));
}

void StoreSink::run_finished(const RunEnd& e, const std::string& label) {
    store_.begin();
    store_.finish_run(e);
    flush();
    progress_.finished(e.run, e.status, e.duration_s, label, e.error);
    cache_growth_.trial_finished(&progress_);
}

void StoreSink::idle() {
    if (store_.in_transaction() && std::chrono::steady_clock::now() - last_commit_ > std::chrono::milliseconds(250))
        flush();
    progress_.tick();
}

void StoreSink::flush() {
    store_.commit();
    last_commit_ = std::chrono::steady_clock::now();
}

SchedulerResult run_recorded(Scheduler& pool, std::deque<QueuedTrial> queue, StoreSink& sink, Progress& progress) {
    SchedulerResult r;
    try {
        r = pool.run(std::move(queue));
        sink.flush();
    } catch (...) {
        progress.clear_line();
        throw;
    }
    progress.clear_line();
    return r;
}

} // namespace iclr
