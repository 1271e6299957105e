// `iclr show RUN`: one run's config, status, timings, provenance, plugins, final metrics and log tail.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "cli/commands.hpp"
#include "cli/recorded_trial.hpp"
#include "cli/table.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/number_text.hpp"
#include "common/results_layout.hpp"
#include "common/values.hpp"
#include "store/run_details.hpp"
#include "sweep/sweep.hpp"

namespace iclr {
namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

// Seconds as stored ("0.011215971") as people read them: "0.011s", "42.3s", "3m07s".
std::string duration(const std::string& stored) {
    if (stored.empty()) return "-";
    double s = std::atof(stored.c_str());
    return s < 60 ? fmt::format("{:.3g}s", s) : format_duration(s);
}

// role, name, version, file, the SHA-256's first 12 hex digits (`--format json` has them whole),
// and where a plugin was built outside iclr's tree, its sources' git commit.
std::string plugin_table(const RunDetails& d) {
    ResultSet rs;
    rs.columns = {"role", "name", "version", "file", "sha256"};
    bool any_git = std::any_of(d.plugins.begin(), d.plugins.end(), [](const auto& p) { return !p.git.empty(); });
    if (any_git) rs.columns.push_back("git (sources outside iclr)");
    for (const auto& p : d.plugins) {
        rs.rows.push_back({p.role, p.name, p.version, p.file, p.sha256.substr(0, 12)});
        if (any_git) rs.rows.back().push_back(p.git.empty() ? "-" : p.git_short());
        rs.is_null.emplace_back(rs.columns.size(), false);
        rs.is_number.emplace_back(rs.columns.size(), false);
    }
    if (rs.rows.empty()) return "  -\n";
    return render(rs, Format::Table);
}

void print_header(std::string& out, const RunDetails& d) {
    out += fmt::format("run {}  {}  sweep {} (#{}{})  key {}\n", d.id, or_dash(d.status), or_dash(d.sweep),
                       or_dash(d.sweep_id), recorded_variant(d.sweep_profile, d.sweep_source).flags(), or_dash(d.key));
    out += fmt::format("{}dataset {}  model {}  method {}  seed {}\n", d.arm.empty() ? "" : "arm " + d.arm + "  ",
                       or_dash(d.dataset), or_dash(d.model), or_dash(d.method), or_dash(d.seed));
    out += fmt::format("created {}  started {}  finished {}  duration {}  attempts {}\n", or_dash(d.created_at),
                       or_dash(d.started_at), or_dash(d.finished_at), duration(d.duration_s), or_dash(d.attempts));
    out += fmt::format("worker pid {} on {}  threads {}  device {}  libtorch {}\n", or_dash(d.worker_pid),
                       or_dash(d.host), or_dash(d.threads), or_dash(d.device), or_dash(d.torch_version));
    out += fmt::format("kernels {}\n", or_dash(d.kernels));
    if (!d.slurm_attempt.empty()) out += fmt::format("slurm: from journal {} (iclr sync)\n", d.slurm_attempt);
    out += fmt::format("git {}{}  iclr {}\n", or_dash(d.git_commit),
                       d.git_dirty < 0 ? "" : (d.git_dirty ? " (dirty)" : " (clean)"), or_dash(d.iclr_build));
    if (!d.exit_code.empty() || !d.signal.empty())
        out += fmt::format("worker exit code {}  signal {}\n", or_dash(d.exit_code), or_dash(d.signal));
    if (!d.error.empty()) out += fmt::format("error: {}\n", d.error);
    if (!d.diverged_step.empty()) out += fmt::format("diverged at step {}\n", d.diverged_step);
    out += fmt::format("\nplugins:\n{}\nconfig:\n{}\n", plugin_table(d), or_dash(d.config_toml));
}

void print_results(std::string& out, const RunDetails& d) {
    if (!d.attributes.empty()) out += fmt::format("attributes:\n");
    for (const auto& [k, v] : d.attributes)
        out += fmt::format("  {} = {}\n", k, v);
    if (!d.final_metrics.empty()) out += fmt::format("final metrics (key, task, step, value):\n");
    for (const auto& m : d.final_metrics)
        out += fmt::format("  {:<28} {:>4} {:>8}  {}\n", m.key, m.task ? std::to_string(*m.task) : "-", m.step,
                           m.nonfinite.empty() ? six_digits(m.value) : m.nonfinite);
    out += fmt::format("metric rows: {}\n", d.metric_rows);
}

// A stored column as JSON: null when empty; a number column's value bare, as a script expects
// ("seed": 0, not "0"), unless its text is not a finite number; anything else a string.
std::string json_field(const std::string& text, bool number) {
    if (text.empty()) return "null";
    auto x = number ? number_of<double>(text) : std::nullopt;
    return x && std::isfinite(*x) ? text : json_escape(text);
}

// The run as one JSON object: every stored column, plugins as stored, attributes, final metrics.
std::string as_json(const RunDetails& d) {
    std::string out = fmt::format("{{\"id\": {}", d.id);
    // The stored columns, each flagged if it is a number (SQLite gives every column as text).
    struct Field {
        const char* name;
        const std::string* value;
        bool number;
    };
    const Field fields[] = {{"key", &d.key, false},
                            {"status", &d.status, false},
                            {"sweep", &d.sweep, false},
                            {"sweep_id", &d.sweep_id, true},
                            {"arm", &d.arm, false},
                            {"dataset", &d.dataset, false},
                            {"model", &d.model, false},
                            {"method", &d.method, false},
                            {"seed", &d.seed, true},
                            {"created_at", &d.created_at, false},
                            {"started_at", &d.started_at, false},
                            {"finished_at", &d.finished_at, false},
                            {"duration_s", &d.duration_s, true},
                            {"attempts", &d.attempts, true},
                            {"worker_pid", &d.worker_pid, true},
                            {"host", &d.host, false},
                            {"threads", &d.threads, true},
                            {"device", &d.device, false},
                            {"torch_version", &d.torch_version, false},
                            {"kernels", &d.kernels, false},
                            {"git_commit", &d.git_commit, false},
                            {"iclr_build", &d.iclr_build, false},
                            {"config_toml", &d.config_toml, false},
                            {"error", &d.error, false},
                            {"exit_code", &d.exit_code, true},
                            {"signal", &d.signal, true},
                            {"diverged_step", &d.diverged_step, true},
                            {"log_tail", &d.log_tail, false},
                            {"slurm_attempt", &d.slurm_attempt, false}};
    for (const auto& [name, value, number] : fields)
        out += fmt::format(", \"{}\": {}", name, json_field(*value, number));
    out += fmt::format(", \"variant\": {}", json_escape(recorded_variant(d.sweep_profile, d.sweep_source).arguments()));
    out += fmt::format(", \"git_dirty\": {}", d.git_dirty < 0 ? "null" : d.git_dirty ? "true" : "false");
    out += ", \"plugins\": " + (d.plugins_json.empty() ? std::string("null") : d.plugins_json);
    out += ", \"attributes\": {";
    for (size_t i = 0; i < d.attributes.size(); ++i)
        out += (i ? ", " : "") + json_escape(d.attributes[i].first) + ": " + json_escape(d.attributes[i].second);
    out += "}, \"final_metrics\": [";
    for (size_t i = 0; i < d.final_metrics.size(); ++i) {
        const auto& m = d.final_metrics[i];
        out += fmt::format("{}{{\"key\": {}, \"task\": {}, \"step\": {}, \"value\": {}}}", i ? ", " : "",
                           json_escape(m.key), m.task ? std::to_string(*m.task) : "null", m.step,
                           m.nonfinite.empty() ? fmt::format("{}", m.value) : json_escape(m.nonfinite));
    }
    return out + fmt::format("], \"metric_rows\": {}}}\n", d.metric_rows);
}

// The run as a sweep file of its one trial: every parameter at its recorded value, its seed and its
// sweep's own settings, so that `iclr run` of it finds the run done (the same key) and an edit of it
// runs a variant. Empty when the recorded config does not parse.
std::string as_sweep(const RunDetails& d) {
    auto config = toml::parse(d.config_toml);
    if (!config) return "";
    std::string out =
        fmt::format("# Run {} of sweep {}{}, as recorded: every parameter at its value, the seed and the sweep's\n"
                    "# settings. `iclr run` of this file into the same database finds the run done (the same trial\n"
                    "# key); change a value to run a variant of it.\n[sweep]\nname = {}\nseeds = [{}]\n",
                    d.id, d.sweep, d.arm.empty() ? "" : " (arm " + d.arm + ")",
                    value_to_toml(Value::of_string(d.sweep + "-run-" + std::to_string(d.id))), d.seed);
    RecordedSettings s = recorded_settings(d);
    if (!s.unreadable.empty()) {
        out += "# (its sweep's on_nonfinite, timeout and memory_mb: the recorded sweep does not read back today)\n";
    } else {
        out += fmt::format("on_nonfinite = {}\n", value_to_toml(Value::of_string(s.on_nonfinite)));
        if (s.timeout_s > 0) out += fmt::format("timeout = {:g}\n", s.timeout_s);
        if (s.memory_mb > 0) out += fmt::format("memory_mb = {}\n", s.memory_mb);
    }
    auto section = [&](const std::string& header, const toml::table& t) {
        out += "\n" + header + "\nplugin = " + value_to_toml(Value::of_string(t["plugin"].value_or(std::string()))) +
               " # version " + t["version"].value_or(std::string()) + " ran it\n";
        if (const toml::table* params = t["params"].as_table())
            for (auto&& [k, v] : *params)
                if (auto value = value_from_toml(v)) out += std::string(k.str()) + " = " + value_to_toml(*value) + "\n";
    };
    for (const char* role : kSectionRoles)
        if (const toml::table* t = config.table()[role].as_table()) section("[" + std::string(role) + "]", *t);
    if (const toml::array* metrics = config.table()["metric"].as_array())
        for (const auto& m : *metrics)
            if (const toml::table* t = m.as_table()) section("[[metric]]", *t);
    return out;
}

} // namespace

int cmd_show(const std::string& run, const std::string& format, const CommonOptions& c) {
    Format f = format == "sweep" ? Format::Table : parse_format(format);
    if (f != Format::Table && f != Format::Json) throw UserError("iclr show: --format is table, json or sweep");
    std::string db_path = c.db_path();
    auto store = Store::open_read(db_path);
    auto d = load_run_details(*store, run);
    if (!d)
        throw UserError("no run '" + run + "' in " + store->path() +
                        " (give a run id or a key prefix of 6+ characters)");
    if (format == "sweep") {
        std::string sweep = as_sweep(*d);
        if (sweep.empty()) throw UserError(fmt::format("run {}: its recorded config is not TOML", d->id));
        fmt::print("{}", sweep);
        return 0;
    }
    if (f == Format::Json) {
        fmt::print("{}", printable(as_json(*d), true)); // JSON strings hold no raw newline
        return 0;
    }
    std::string out;
    print_header(out, *d);
    print_results(out, *d);
    if (!d->log_tail.empty()) out += fmt::format("\nlog tail:\n{}", d->log_tail);
    auto full = ResultsLayout(db_path).log_file(d->id); // where `iclr run` wrote the whole log
    std::error_code ec;
    if (std::filesystem::exists(full, ec)) out += fmt::format("full log: {}\n", full.string());
    if (d->status != "pending" && d->status != "running" && d->status != "interrupted")
        out += fmt::format("rerun it and compare: iclr rerun {0}{1}; as a sweep file to edit: iclr show {0}{1} "
                           "--format sweep\n",
                           d->id, c.db_flag());
    // What plugins printed and wrote is shown, never obeyed: no terminal escapes get through.
    fmt::print("{}", printable(out, true));
    return 0;
}

} // namespace iclr
