// The worker's side of the SDK's RunContext: records to the host, non-finite losses, cancellation.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "exec/protocol.hpp"
#include "exec/worker/shared_values.hpp"
#include "iclr/context.hpp"

namespace iclr::worker {

// Records are buffered and written with write(2), so that a crash handler can still send what a
// trial logged before it crashed (stdio buffers are not safe to touch from a handler).
void record(const protocol::Record& r);
// Takes the nonce from the environment and moves the record channel from fd 3 to a high fd;
// false when the worker was not started by a host (no nonce) or fd 3 is not open.
bool open_record_channel();
void flush_records(); // async-signal-safe

// Set by SIGTERM: the host asks the running trial to stop.
extern std::atomic<bool> g_cancelled;

// The first non-finite loss of a trial (a logged key containing "loss" whose value is NaN or ±inf).
struct Divergence {
    std::string key, value; // "train_loss", "nan"
    int64_t step = 0;
    std::string what() const { return key + " became " + value + " at step " + std::to_string(step); }
};

struct ContextSettings {
    int64_t run = 0;
    uint64_t seed = 0;
    std::string device = "cpu";
    int threads = 1;
    std::filesystem::path data, cache, run_dir;
    bool stop_on_nonfinite = true; // [sweep] on_nonfinite = "stop" (default) or "record"
};

class WorkerContext : public RunContext {
  public:
    explicit WorkerContext(ContextSettings s) : s_(std::move(s)) {}
    int64_t run_id() const override { return s_.run; }
    uint64_t seed() const override { return s_.seed; }
    const std::string& device() const override { return s_.device; }
    int threads() const override { return s_.threads; }
    // Records the row (non-finite values included); on a non-finite loss, remembers the first one
    // and, unless the sweep records and goes on, throws iclr::Diverged.
    void log(std::string_view key, double value, int64_t step, int64_t task) override;
    // The trial diverged (`key` became `value` at `step`): remembered if first, and thrown as
    // iclr::Diverged unless the sweep records and goes on.
    void diverged(const std::string& key, const std::string& value, int64_t step);
    void info(std::string_view message) override;
    void set_attribute(std::string_view key, std::string_view value) override;
    std::filesystem::path cache_dir() const override { return s_.cache; }
    std::filesystem::path data_dir() const override { return s_.data; }
    std::filesystem::path run_dir() const override;
    void add_artifact(std::string_view name, const std::filesystem::path& file) override;
    bool cancelled() const override { return g_cancelled.load(std::memory_order_relaxed); }
    // Inside an event (EventScope): computed once per key, then the stored value.
    double shared_value(std::string_view key, const std::function<double()>& compute) override {
        return shared_.get(key, compute);
    }

    // While one event is handed to the metrics: what they compute under a shared key is kept for
    // each other, and forgotten at the end (the model changes between events).
    class EventScope {
      public:
        explicit EventScope(WorkerContext& c) : c_(c) { c_.shared_.open(); }
        ~EventScope() { c_.shared_.close(); }
        EventScope(const EventScope&) = delete;
        EventScope& operator=(const EventScope&) = delete;

      private:
        WorkerContext& c_;
    };

    const std::optional<Divergence>& divergence() const { return divergence_; }

  private:
    void send(protocol::Record::Kind kind, std::string_view key, std::string_view text);
    ContextSettings s_;
    std::optional<Divergence> divergence_;
    SharedValues shared_;
};

} // namespace iclr::worker
