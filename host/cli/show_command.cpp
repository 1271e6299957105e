// `iclr show RUN`: one run's config, status, timings, provenance, final metrics and log tail.
#include <filesystem>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "common/results_layout.hpp"
#include "store/run_details.hpp"

namespace iclr {
namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

void print_header(std::string& out, const RunDetails& d) {
    out += fmt::format("run {}  {}  sweep {} (#{})  key {}\n", d.id, or_dash(d.status), or_dash(d.sweep),
                       or_dash(d.sweep_id), or_dash(d.key));
    out += fmt::format("dataset {}  model {}  method {}  seed {}\n", or_dash(d.dataset), or_dash(d.model),
                       or_dash(d.method), or_dash(d.seed));
    out += fmt::format("created {}  started {}  finished {}  duration {}s  attempts {}\n", or_dash(d.created_at),
                       or_dash(d.started_at), or_dash(d.finished_at), or_dash(d.duration_s), or_dash(d.attempts));
    out += fmt::format("worker pid {} on {}  threads {}  device {}  libtorch {}\n", or_dash(d.worker_pid),
                       or_dash(d.host), or_dash(d.threads), or_dash(d.device), or_dash(d.torch_version));
    out += fmt::format("git {}{}\n", or_dash(d.git_commit),
                       d.git_dirty < 0 ? "" : (d.git_dirty ? " (dirty)" : " (clean)"));
    if (!d.exit_code.empty() || !d.signal.empty())
        out += fmt::format("worker exit code {}  signal {}\n", or_dash(d.exit_code), or_dash(d.signal));
    if (!d.error.empty()) out += fmt::format("error: {}\n", d.error);
    if (!d.diverged_step.empty()) out += fmt::format("diverged at step {}\n", d.diverged_step);
    out += fmt::format("\nplugins: {}\n\nconfig:\n{}\n", or_dash(d.plugins_json), or_dash(d.config_toml));
}

void print_results(std::string& out, const RunDetails& d) {
    if (!d.attributes.empty()) out += fmt::format("attributes:\n");
    for (const auto& [k, v] : d.attributes)
        out += fmt::format("  {} = {}\n", k, v);
    if (!d.final_metrics.empty()) out += fmt::format("final metrics (key, task, step, value):\n");
    for (const auto& m : d.final_metrics)
        out += fmt::format("  {:<28} {:>4} {:>8}  {}\n", m.key, m.task ? std::to_string(*m.task) : "-", m.step,
                           m.nonfinite.empty() ? fmt::format("{:.6g}", m.value) : m.nonfinite);
    out += fmt::format("metric rows: {}\n", d.metric_rows);
}

} // namespace

int cmd_show(const std::string& run, const CommonOptions& c) {
    std::string db_path = c.db_path();
    auto store = Store::open_read(db_path);
    auto d = load_run_details(*store, run);
    if (!d)
        throw UserError("no run '" + run + "' in " + store->path() +
                        " (give a run id or a key prefix of 6+ characters)");
    std::string out;
    print_header(out, *d);
    print_results(out, *d);
    if (!d->log_tail.empty()) out += fmt::format("\nlog tail:\n{}", d->log_tail);
    auto full = ResultsLayout(db_path).log_file(d->id); // where `iclr run` wrote the whole log
    std::error_code ec;
    if (std::filesystem::exists(full, ec)) out += fmt::format("full log: {}\n", full.string());
    // What plugins printed and wrote is shown, never obeyed: no terminal escapes get through.
    fmt::print("{}", printable(out, true));
    return 0;
}

} // namespace iclr
