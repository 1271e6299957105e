// `iclr query SQL`: read-only SQL over the results database, streamed as table, CSV, JSON or Markdown.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/results_layout.hpp"
#include "store/query.hpp"
#include "store/store.hpp"

namespace iclr {

int cmd_query(const std::string& sql, const std::string& format, const CommonOptions& c) {
    Format f = parse_format(format);
    auto store = Store::open_read(c.db_path());
    // A reader that stops early (`| head`) ends the query quietly: no SIGPIPE death, no message.
    signal(SIGPIPE, SIG_IGN);
    bool closed = false;
    RowWriter w(
        f,
        [&](std::string_view s) {
            if (!closed && std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) closed = true;
        },
        isatty(STDOUT_FILENO));
    stream_query(
        *store, sql, f == Format::Csv || f == Format::Json,
        [&](const std::vector<std::string>& cols) { w.columns(cols); },
        [&](const std::vector<Cell>& row) {
            w.row(row);
            return !closed;
        });
    if (!closed) w.finish();
    if (std::fflush(stdout) != 0 || closed) {
        if (errno == EPIPE) return 0;
        std::perror("iclr query: writing the result");
        return 1;
    }
    return 0;
}

} // namespace iclr
