// Run status words, kept in one table so code, SQL and messages agree.
#include "common/run_status.hpp"

#include <array>
#include <utility>

namespace iclr {
namespace {
constexpr std::array<std::pair<RunStatus, const char*>, 7> kWords{{{RunStatus::Pending, "pending"},
                                                                   {RunStatus::Running, "running"},
                                                                   {RunStatus::Done, "done"},
                                                                   {RunStatus::Failed, "failed"},
                                                                   {RunStatus::Timeout, "timeout"},
                                                                   {RunStatus::Interrupted, "interrupted"},
                                                                   {RunStatus::Diverged, "diverged"}}};
} // namespace

const char* to_string(RunStatus s) {
    for (const auto& [status, word] : kWords)
        if (status == s) return word;
    return "unknown";
}

std::optional<RunStatus> parse_run_status(std::string_view word) {
    for (const auto& [status, w] : kWords)
        if (word == w) return status;
    return std::nullopt;
}

} // namespace iclr
