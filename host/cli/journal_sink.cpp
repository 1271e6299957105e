// JournalSink: scheduler events -> journal records, stamped with the time they happened.
#include "cli/journal_sink.hpp"

#include <filesystem>

#include "journal/events.hpp"
#include "store/sqlite_util.hpp"

namespace iclr {

void JournalSink::run_started(const RunStart& s) {
    journal::Started ev{s, keys_[s.run]};
    ev.start.at = now_iso();
    writer_.append(journal::encode(ev));
    writer_.flush();
    progress_.started(s.run);
}

void JournalSink::metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) {
    writer_.append(journal::encode(journal::Metric{run, key, step, task, value}));
}

void JournalSink::attribute(int64_t run, const std::string& key, const std::string& value) {
    writer_.append(journal::encode(journal::Attribute{run, key, value}));
    cache_growth_.attribute(key, value);
}

void JournalSink::artifact(int64_t run, const std::string& name, const std::string& path) {
    std::error_code ec;
    auto bytes = std::filesystem::file_size(path, ec);
    writer_.append(journal::encode(journal::Artifact{run, name, path, ec ? -1 : int64_t(bytes)}));
}

void JournalSink::run_finished(const RunEnd& e, const std::string& label) {
    RunEnd end = e;
    end.at = now_iso();
    writer_.append(journal::encode(end));
    writer_.sync();
    last_flush_ = std::chrono::steady_clock::now();
    progress_.finished(e.run, e.status, e.duration_s, label, e.error);
    cache_growth_.trial_finished(&progress_);
}

void JournalSink::idle() {
    if (std::chrono::steady_clock::now() - last_flush_ > std::chrono::milliseconds(250)) {
        writer_.flush();
        last_flush_ = std::chrono::steady_clock::now();
    }
    progress_.tick();
}

} // namespace iclr
