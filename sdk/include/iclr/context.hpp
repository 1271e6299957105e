// RunContext: the only channel between a running plugin and the host (no torch here).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "iclr/params.hpp"

namespace iclr {

// Given to every create() and every call during a trial. The worker implements it; all records
// go through it to the host, which is the single writer of the database.
class ICLR_SDK_API RunContext {
  public:
    virtual ~RunContext() = default;

    virtual int64_t run_id() const = 0;
    virtual uint64_t seed() const = 0;             // the trial's seed; torch is already seeded with it
    virtual const std::string& device() const = 0; // "cpu" or "cuda"
    virtual int threads() const = 0;               // torch intra-op threads, already set

    // Metric sink: one row (run, key, step, task, value). task < 0 means "no task".
    virtual void log(std::string_view key, double value, int64_t step = 0, int64_t task = -1) = 0;
    // Human-readable progress; the host keeps the tail for `iclr show` and failure reports.
    virtual void info(std::string_view message) = 0;
    // A string attribute recorded on the run (e.g. "cache_key", "param_count").
    virtual void set_attribute(std::string_view key, std::string_view value) = 0;

    // Content-keyed cache shared by all trials (pretrained backbones, derived data sets).
    virtual std::filesystem::path cache_dir() const = 0;
    // Where data sets live (ICLR_DATA / --data).
    virtual std::filesystem::path data_dir() const = 0;
    // A per-run folder for files worth keeping; register them with add_artifact.
    virtual std::filesystem::path run_dir() const = 0;
    virtual void add_artifact(std::string_view name, const std::filesystem::path& file) = 0;

    // True once the host asked the trial to stop; long loops check it (see check_cancelled).
    virtual bool cancelled() const = 0;
    void check_cancelled() const {
        if (cancelled()) throw Cancelled();
    }
    // Appended in 2.3. While the host hands one event to the metrics, a number computed once per
    // key and shared by every metric that asks for it: accuracy_matrix, forgetting, avg_accuracy
    // and bwt each need every task's test accuracy at each TaskEnd, and evaluating it once instead
    // of four times is a quarter of a large model's trial. Outside an event it just computes.
    virtual double shared_value(std::string_view key, const std::function<double()>& compute) {
        (void)key;
        return compute();
    }
};

} // namespace iclr
