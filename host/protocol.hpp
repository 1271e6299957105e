// The host <-> worker wire protocol: trials go down a pipe as TOML, records come back as lines.
#pragma once

#include <string>

namespace iclr::protocol {

// Host -> worker, on the worker's stdin:
//   "TRIAL <bytes>\n" followed by <bytes> of TOML (see make_payload in run_command.cpp), or "QUIT\n".
// Worker -> host, on fd kRecordFd, one record per line, fields separated by tabs:
//   R <pid>                                   worker loaded libtorch and is ready
//   M <run> <key> <step> <task|-> <value>     a metric row
//   A <run> <key> <value>                     a run attribute (cache_key, param_count, ...)
//   F <run> <name> <path>                     an artifact file
//   D <run>                                   trial finished
//   E <run> <failed|interrupted> <message>    trial ended with an error; the worker goes on
// The worker's stdout and stderr are the trial's log.
constexpr int kRecordFd = 3;

// Tabs and newlines inside fields would break the framing; they become spaces.
inline std::string clean(std::string s) {
    for (char& c : s)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return s;
}

} // namespace iclr::protocol
