// `iclr diff RUN_A RUN_B`: what differs between two runs (parameters, provenance) and their final
// metrics side by side.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "store/run_diff.hpp"

namespace iclr {
namespace {

std::string section(const std::string& title, const ResultSet& rs, Format f) {
    if (rs.rows.empty()) return title + "\n\n";
    return title + "\n" + render(rs, f) + "\n";
}

} // namespace

int cmd_diff(const std::string& a, const std::string& b, const std::string& format, const CommonOptions& c) {
    Format f = parse_format(format);
    auto store = Store::open_read(c.db_path());
    RunDiffResult r = load_run_diff(*store, a, b);
    if (!r.diff)
        throw UserError("no run '" + r.missing + "' in " + store->path() +
                        " (give a run id or a key prefix of 6+ characters)");
    const RunDiff& d = *r.diff;
    std::string out;
    if (f == Format::Json) {
        out = fmt::format("{{\"a\": {}, \"b\": {}, \"config\": {}, \"provenance\": {}, \"final_metrics\": {}}}\n",
                          d.a.id, d.b.id, render(d.config, f), render(d.provenance, f), render(d.metrics, f));
    } else {
        out = fmt::format("run {} ({}, seed {}) vs run {} ({}, seed {})\n\n", d.a.id, d.a.sweep, d.a.seed, d.b.id,
                          d.b.sweep, d.b.seed);
        out += section(fmt::format("config: {} differ, {} the same", d.config.rows.size(), d.config_same), d.config, f);
        out += section(fmt::format("provenance: {} differ, {} the same", d.provenance.rows.size(), d.provenance_same),
                       d.provenance, f);
        out += section("final metrics:", d.metrics, f);
    }
    // Plugins' metric names and errors are shown, never obeyed: no terminal escapes get through.
    fmt::print("{}", printable(out, true));
    return 0;
}

} // namespace iclr
