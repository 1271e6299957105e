// The one name for a run's status: an enum in code, its lower-case word in the database.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iclr {

// Diverged: the method's loss became NaN or infinite (a result of the experiment, not a failure
// of the tool): like done, a rerun does not repeat it.
enum class RunStatus { Pending, Running, Done, Failed, Timeout, Interrupted, Diverged };

// "pending", "running", "done", "failed", "timeout", "interrupted", "diverged": the runs table's words.
const char* to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view word);
// Finished without being done: failed, timeout (interrupted is counted apart: the user stopped it).
inline bool is_failure(RunStatus s) { return s == RunStatus::Failed || s == RunStatus::Timeout; }
// Finished for good: `iclr run` skips these when it resumes.
inline bool is_final(RunStatus s) { return s == RunStatus::Done || s == RunStatus::Diverged; }

} // namespace iclr
