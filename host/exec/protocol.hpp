// The host <-> worker wire protocol, encoded and parsed here for BOTH ends.
#pragma once

#include <algorithm>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/run_status.hpp"

namespace iclr::protocol {

// Host -> worker, on the worker's stdin: "TRIAL <bytes>\n" followed by <bytes> of TOML (the
// payload cli/run_command builds), "CHECK <bytes>\n" with a payload of the same form whose plugins
// are only constructed, not run (cli/constructor_check: D or E as for a trial), or "QUIT\n".
// Worker -> host, on the record channel (fd kRecordFd at exec; the worker moves it out of the way
// of plugins), one record per line, fields separated by tabs, each line framed by the worker's
// nonce (see frame()):
//   R <pid> <device> <libtorch version>       worker loaded libtorch and is ready
//   M <run> <key> <step> <task|-> <value>     a metric row (value %.17g: nan, inf, -inf kept)
//   A <run> <key> <value>                     a run attribute (cache_key, param_count, ...)
//   F <run> <name> <path>                     an artifact file
//   D <run>                                   trial finished
//   E <run> <status> <step|-> <message>       trial ended failed, interrupted or diverged (at
//                                             step); the worker goes on
// The worker's stdout and stderr are the trial's log.
constexpr int kRecordFd = 3;
// The environment variable that hands the worker its nonce (it unsets it before loading plugins).
constexpr const char* kNonceEnv = "ICLR_RECORD_NONCE";
// The longest line either channel keeps whole: a longer log line is cut into pieces of this size,
// a longer record is a corrupt channel.
constexpr size_t kMaxLine = 1 << 16;

struct Record {
    enum class Kind { Ready, Metric, Attribute, Artifact, Done, Error };
    Kind kind = Kind::Done;
    int64_t run = -1;          // every kind but Ready
    int64_t pid = 0;           // Ready
    std::string device;        // Ready
    std::string torch_version; // Ready
    std::string kernels;       // Ready: BLAS and ATen kernel sets (worker/kernels.hpp)
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

// A record line as sent: "<nonce>\t<record>". A random nonce per worker means that bytes a plugin
// writes into the channel by mistake (a stray fd, a library that writes to fd 3) never pass as a
// record: a line without it is a corrupt channel, and the trial fails instead of being misread.
std::string frame(std::string_view nonce, std::string_view encoded);
// The record in a framed line; nullopt when the nonce or the record is wrong.
std::optional<Record> parse_framed(std::string_view nonce, std::string_view line);
// 16 hex digits from the system's random source.
std::string make_nonce();

std::string encode_trial(std::string_view payload);
std::string encode_check(std::string_view payload);
std::string encode_quit();

// What the worker reads next from its stdin.
struct Command {
    enum class Kind { Trial, Check, Quit, End };
    Kind kind = Kind::End;
    std::string payload; // Trial, Check
};
// Skips lines that are not commands; End at end of input or on a truncated payload.
Command read_command(std::istream& in);

// Splits a byte stream into lines, keeping a partial last line until its newline arrives. Scans
// each byte once (a long line arriving in chunks is not rescanned) and never holds more than
// kMaxLine bytes of a partial line: a longer one is delivered in pieces, `cut` set.
class LineBuffer {
  public:
    template <class F> void append(const char* data, size_t n, F&& on_line) {
        buf_.append(data, n);
        size_t pos = 0, nl;
        while ((nl = buf_.find('\n', std::max(pos, scanned_))) != std::string::npos) {
            on_line(std::string_view(buf_).substr(pos, nl - pos), false);
            pos = nl + 1;
            scanned_ = pos;
        }
        while (buf_.size() - pos >= kMaxLine) {
            on_line(std::string_view(buf_).substr(pos, kMaxLine), true);
            pos += kMaxLine;
        }
        buf_.erase(0, pos);
        scanned_ = buf_.size();
    }
    // The partial line left at end of stream or trial (empty if none); clears it.
    std::string take_rest() {
        scanned_ = 0;
        return std::exchange(buf_, std::string());
    }

  private:
    std::string buf_;
    size_t scanned_ = 0; // bytes of buf_ known to hold no newline
};

} // namespace iclr::protocol
