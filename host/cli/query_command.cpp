// `iclr query SQL`: read-only SQL over the results database, streamed as table, CSV, JSON or Markdown.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "common/results_layout.hpp"
#include "store/query.hpp"
#include "store/store.hpp"

namespace iclr {

int print_query(Store& store, const std::string& sql, const std::string& format) {
    Format f = parse_format(format);
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
        store, sql, f == Format::Csv || f == Format::Json,
        [&](const std::vector<std::string>& cols) { w.columns(cols); },
        [&](const std::vector<Cell>& row) {
            w.row(row);
            return !closed;
        });
    if (!closed) w.finish();
    if (std::fflush(stdout) != 0 || closed) {
        if (errno == EPIPE) return 0;
        std::perror("iclr: writing the result");
        return 1;
    }
    return 0;
}

int cmd_query(const std::string& sql, const std::string& format, const std::vector<std::string>& sweeps,
              const SweepVariant& variant, const std::vector<std::string>& attach, const CommonOptions& c) {
    parse_format(format); // a bad format is refused before the sweep is planned
    auto store = Store::open_read(c.db_path());
    for (const auto& a : attach) {
        auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
            throw UserError("--attach '" + a + "': give NAME=FILE (the SQL then reads NAME.runs, NAME.metrics, ...)");
        store->attach_read_only(a.substr(0, eq), a.substr(eq + 1));
    }
    if (sweeps.size() == 1) share_sweep_runs(*store, sweeps.front(), variant);
    if (sweeps.size() > 1) share_sweeps_runs(*store, sweeps, variant);
    return print_query(*store, sql, format);
}

} // namespace iclr
