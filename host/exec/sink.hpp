// RunSink: where the scheduler sends what happens to runs. The scheduler knows no database and
// no terminal; the CLI's sink writes the store and draws the progress line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/run_record.hpp"

namespace iclr {

class RunSink {
  public:
    virtual ~RunSink() = default;
    virtual void run_started(const RunStart& s) = 0;
    virtual void metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task,
                        double value) = 0;
    virtual void attribute(int64_t run, const std::string& key, const std::string& value) = 0;
    virtual void artifact(int64_t run, const std::string& name, const std::string& path) = 0;
    // label: the trial as people read it ("model.width=64 seed=0"), for progress lines.
    virtual void run_finished(const RunEnd& e, const std::string& label) = 0;
    // Called on every turn of the scheduler's loop (about every 100 ms or after each batch of
    // records): flush batched writes, redraw progress. The sink's owner flushes it at the end.
    virtual void idle() = 0;
};

} // namespace iclr
