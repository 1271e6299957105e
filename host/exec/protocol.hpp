// The host <-> worker wire protocol, encoded and parsed here for BOTH ends.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/run_status.hpp"

namespace iclr::protocol {

// Host -> worker, on the worker's stdin: "TRIAL <bytes>\n" followed by <bytes> of TOML (the
// payload cli/run_command builds), or "QUIT\n".
// Worker -> host, on fd kRecordFd, one record per line, fields separated by tabs:
//   R <pid> <device> <libtorch version>       worker loaded libtorch and is ready
//   M <run> <key> <step> <task|-> <value>     a metric row (value %.17g: nan, inf, -inf kept)
//   A <run> <key> <value>                     a run attribute (cache_key, param_count, ...)
//   F <run> <name> <path>                     an artifact file
//   D <run>                                   trial finished
//   E <run> <status> <step|-> <message>       trial ended failed, interrupted or diverged (at
//                                             step); the worker goes on
// The worker's stdout and stderr are the trial's log.
constexpr int kRecordFd = 3;

struct Record {
    enum class Kind { Ready, Metric, Attribute, Artifact, Done, Error };
    Kind kind = Kind::Done;
    int64_t run = -1;          // every kind but Ready
    int64_t pid = 0;           // Ready
    std::string device;        // Ready
    std::string torch_version; // Ready
    std::string key;           // Metric, Attribute (key), Artifact (name)
    std::string text;          // Attribute (value), Artifact (path), Error (message)
    int64_t step = 0;          // Metric; Error when Diverged
    std::optional<int64_t> task;
    double value = 0;                     // Metric
    RunStatus status = RunStatus::Failed; // Error: Failed or Interrupted
};

// One line, newline included. Tabs and newlines inside fields would break the framing: they
// become spaces.
std::string encode(const Record& r);
// nullopt for a line that is not a record (garbage, a truncated field, an unknown kind).
std::optional<Record> parse_record(std::string_view line);

std::string encode_trial(std::string_view payload);
std::string encode_quit();

// What the worker reads next from its stdin.
struct Command {
    enum class Kind { Trial, Quit, End };
    Kind kind = Kind::End;
    std::string payload; // Trial
};
// Skips lines that are not commands; End at end of input or on a truncated payload.
Command read_command(std::istream& in);

// Splits a byte stream into lines, keeping a partial last line until its newline arrives.
class LineBuffer {
  public:
    template <class F> void append(const char* data, size_t n, F&& on_line) {
        buf_.append(data, n);
        size_t pos = 0, nl;
        while ((nl = buf_.find('\n', pos)) != std::string::npos) {
            on_line(std::string_view(buf_).substr(pos, nl - pos));
            pos = nl + 1;
        }
        buf_.erase(0, pos);
    }
    // The partial line left at end of stream (empty if none); clears it.
    std::string take_rest() { return std::exchange(buf_, std::string()); }

  private:
    std::string buf_;
};

} // namespace iclr::protocol
