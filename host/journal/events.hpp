// What an array task writes to its journal: the same events the scheduler reports to a local sink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/run_record.hpp"

namespace iclr::journal {

// First record of every attempt: which Slurm array task wrote what follows.
struct TaskOpened {
    std::string job; // "<array job id>_<task id>"
    int64_t restart = 0, pid = 0;
    std::string host, at;
};
struct Started {
    RunStart start;  // start.at is set
    std::string key; // the trial key: sync refuses a record whose run id the plan gives another key
};
struct Metric {
    int64_t run = 0;
    std::string key;
    int64_t step = 0;
    std::optional<int64_t> task;
    double value = 0; // bit-exact: NaN and infinities come back as written
};
struct Attribute {
    int64_t run = 0;
    std::string key, value;
};
struct Artifact {
    int64_t run = 0;
    std::string name, path;
    int64_t bytes = -1;
};
using Ended = RunEnd; // end.at is set

using Event = std::variant<TaskOpened, Started, Metric, Attribute, Artifact, Ended>;

// A record's payload: one kind letter, then length-prefixed fields ("5:hello"), so any byte may
// appear in a field (error messages, log tails).
std::string encode(const Event& e);
// nullopt for a payload this iclr does not know (a newer kind, a malformed field).
std::optional<Event> decode(std::string_view payload);
// The run an event belongs to (-1 for TaskOpened).
int64_t run_of(const Event& e);

} // namespace iclr::journal
