// The one name for a run's status: an enum in code, its lower-case word in the database.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iclr {

enum class RunStatus { Pending, Running, Done, Failed, Timeout, Interrupted };

// "pending", "running", "done", "failed", "timeout", "interrupted": the words the runs table holds.
const char* to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view word);
// Finished without being done: failed, timeout (interrupted is counted apart: the user stopped it).
inline bool is_failure(RunStatus s) { return s == RunStatus::Failed || s == RunStatus::Timeout; }

} // namespace iclr
