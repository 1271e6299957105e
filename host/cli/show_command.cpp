// `iclr show RUN`: one run's config, status, timings, provenance, final metrics and log tail.
#include <filesystem>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "common/errors.hpp"
#include "common/results_layout.hpp"
#include "store/run_details.hpp"

namespace iclr {
namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

void print_header(const RunDetails& d) {
    fmt::print("run {}  {}  sweep {} (#{})  key {}\n", d.id, or_dash(d.status), or_dash(d.sweep), or_dash(d.sweep_id),
               or_dash(d.key));
    fmt::print("dataset {}  model {}  method {}  seed {}\n", or_dash(d.dataset), or_dash(d.model), or_dash(d.method),
               or_dash(d.seed));
    fmt::print("created {}  started {}  finished {}  duration {}s  attempts {}\n", or_dash(d.created_at),
               or_dash(d.started_at), or_dash(d.finished_at), or_dash(d.duration_s), or_dash(d.attempts));
    fmt::print("worker pid {} on {}  threads {}  device {}  libtorch {}\n", or_dash(d.worker_pid), or_dash(d.host),
               or_dash(d.threads), or_dash(d.device), or_dash(d.torch_version));
    fmt::print("git {}{}\n", or_dash(d.git_commit), d.git_dirty < 0 ? "" : (d.git_dirty ? " (dirty)" : " (clean)"));
    if (!d.exit_code.empty() || !d.signal.empty())
        fmt::print("worker exit code {}  signal {}\n", or_dash(d.exit_code), or_dash(d.signal));
    if (!d.error.empty()) fmt::print("error: {}\n", d.error);
    if (!d.diverged_step.empty()) fmt::print("diverged at step {}\n", d.diverged_step);
    fmt::print("\nplugins: {}\n\nconfig:\n{}\n", or_dash(d.plugins_json), or_dash(d.config_toml));
}

void print_results(const RunDetails& d) {
    if (!d.attributes.empty()) fmt::print("attributes:\n");
    for (const auto& [k, v] : d.attributes)
        fmt::print("  {} = {}\n", k, v);
    if (!d.final_metrics.empty()) fmt::print("final metrics (key, task, step, value):\n");
    for (const auto& m : d.final_metrics)
        fmt::print("  {:<28} {:>4} {:>8}  {}\n", m.key, m.task ? std::to_string(*m.task) : "-", m.step,
                   m.nonfinite.empty() ? fmt::format("{:.6g}", m.value) : m.nonfinite);
    fmt::print("metric rows: {}\n", d.metric_rows);
}

} // namespace

int cmd_show(const std::string& run, const CommonOptions& c) {
    std::string db_path = c.db_path();
    auto store = Store::open_read(db_path);
    auto d = load_run_details(*store, run);
    if (!d)
        throw UserError("no run '" + run + "' in " + store->path() +
                        " (give a run id or a key prefix of 6+ characters)");
    print_header(*d);
    print_results(*d);
    if (!d->log_tail.empty()) fmt::print("\nlog tail:\n{}", d->log_tail);
    auto full = ResultsLayout(db_path).log_file(d->id); // where `iclr run` wrote the whole log
    std::error_code ec;
    if (std::filesystem::exists(full, ec)) fmt::print("full log: {}\n", full.string());
    return 0;
}

} // namespace iclr
