// `iclr rerun RUN`: run a recorded trial again from the database and compare what it gives with what was recorded.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <tuple>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "cli/recorded_trial.hpp"
#include "cli/run_plan.hpp"
#include "cli/table.hpp"
#include "common/build_info.hpp"
#include "common/errors.hpp"
#include "exec/scheduler.hpp"
#include "exec/stop_signal.hpp"
#include "store/query.hpp"
#include "store/run_details.hpp"
#include "store/store.hpp"

namespace iclr {
namespace {

// What the rerun's worker reports; nothing of it reaches the database.
class CollectingSink : public RunSink {
  public:
    std::optional<RunStart> start;
    std::optional<RunEnd> end;
    std::vector<RecordedMetric> metrics;
    int stop_signal = 0; // the user stopped the rerun (Ctrl-C)

    void run_started(const RunStart& s) override { start = s; }
    void metric(int64_t, const std::string& key, int64_t step, std::optional<int64_t> task, double value) override {
        metrics.push_back({key, task, step, value});
    }
    void attribute(int64_t, const std::string&, const std::string&) override {}
    void artifact(int64_t, const std::string&, const std::string&) override {}
    void run_finished(const RunEnd& e, const std::string&) override { end = e; }
    void idle() override {}
};

using MetricAt = std::tuple<std::string, std::optional<int64_t>, int64_t>; // key, task, step
struct Difference {
    MetricAt at;
    std::optional<double> recorded, rerun; // nullopt: that side has no such row
};
struct Comparison {
    size_t identical = 0;                 // bit for bit (NaN with NaN)
    std::vector<Difference> within, over; // by the tolerance
};

bool same_bits(double a, double b) {
    return a == b ? std::signbit(a) == std::signbit(b) : std::isnan(a) && std::isnan(b);
}

// Rows pair up by key, task and step, in the order each side logged them.
Comparison compare(const std::vector<RecordedMetric>& recorded, const std::vector<RecordedMetric>& rerun,
                   double tolerance) {
    std::map<MetricAt, std::pair<std::vector<double>, std::vector<double>>> rows;
    for (const auto& m : recorded)
        rows[{m.key, m.task, m.step}].first.push_back(m.value);
    for (const auto& m : rerun)
        rows[{m.key, m.task, m.step}].second.push_back(m.value);
    Comparison c;
    for (const auto& [at, sides] : rows) {
        const auto& [a, b] = sides;
        for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
            std::optional<double> x = i < a.size() ? std::optional(a[i]) : std::nullopt;
            std::optional<double> y = i < b.size() ? std::optional(b[i]) : std::nullopt;
            if (x && y && same_bits(*x, *y))
                ++c.identical;
            else if (x && y && std::abs(*x - *y) <= tolerance)
                c.within.push_back({at, x, y});
            else
                c.over.push_back({at, x, y});
        }
    }
    return c;
}

std::string number(const std::optional<double>& v) { return v ? fmt::format("{:.10g}", *v) : "-"; }

// ", largest |difference| 4.2e-09 (train_loss task 2 step 450)", or "" when no pair has two values.
std::string largest(const std::vector<Difference>& diffs) {
    const Difference* top = nullptr;
    for (const auto& d : diffs)
        if (d.recorded && d.rerun && std::isfinite(*d.rerun - *d.recorded) &&
            (!top || std::abs(*d.rerun - *d.recorded) > std::abs(*top->rerun - *top->recorded)))
            top = &d;
    if (!top) return "";
    const auto& [key, task, step] = top->at;
    return fmt::format(", largest |difference| {:.3g} ({}{} step {})", std::abs(*top->rerun - *top->recorded), key,
                       task ? " task " + std::to_string(*task) : "", step);
}

void print_differences(const std::vector<Difference>& diffs) {
    constexpr size_t kShown = 20;
    ResultSet rs;
    rs.columns = {"key", "task", "step", "recorded", "rerun", "difference"};
    for (size_t i = 0; i < diffs.size() && i < kShown; ++i) {
        const auto& [key, task, step] = diffs[i].at;
        const auto &x = diffs[i].recorded, &y = diffs[i].rerun;
        rs.rows.push_back({key, task ? std::to_string(*task) : "-", std::to_string(step), number(x), number(y),
                           x && y ? fmt::format("{:.3g}", *y - *x) : "-"});
        rs.is_null.emplace_back(rs.columns.size(), false);
        rs.is_number.push_back({false, true, true, true, true, true});
    }
    fmt::print("{}", render(rs, Format::Table));
    if (diffs.size() > kShown) fmt::print("... and {} more\n", diffs.size() - kShown);
}

// The setting beside the plugins, each of which moves results in the last bits: one line of what
// matches the run's, one of what does not.
void print_setting(const RunDetails& run, const RunStart& now) {
    std::string same, other;
    auto add = [&](const char* what, const std::string& then, const std::string& today) {
        std::string& to = then == today ? same : other;
        to += (to.empty() ? "" : "; ") + fmt::format("{} {}", what, today);
        if (then != today) to += fmt::format(" (the run: {})", then.empty() ? "not recorded" : then);
    };
    add("kernels", run.kernels, now.kernels);
    add("threads", run.threads, std::to_string(now.threads));
    add("device", run.device, now.device);
    add("libtorch", run.torch_version, now.torch_version);
    add("iclr", run.iclr_build, iclr_build()); // the worker's checks (divergence, data) are iclr's
    if (!same.empty()) fmt::print("as recorded: {}\n", same);
    if (!other.empty()) fmt::print("not as recorded: {}\n", other);
}

// The verdict line and the exit status: 0 when the status and every value reproduced.
int print_outcome(const RunDetails& run, const RunEnd& end, const Comparison& c, double tolerance) {
    std::string status = to_string(end.status);
    bool same_status = status == run.status;
    fmt::print("status: {}{} in {:.3g} s (the run: {:.3g} s)\n", status,
               same_status ? ", as recorded," : " (the run: " + run.status + ")", end.duration_s,
               std::atof(run.duration_s.c_str()));
    if (!end.error.empty()) fmt::print("error: {}\n", end.error);
    if (run.error != end.error && !run.error.empty()) fmt::print("the run's error: {}\n", run.error);
    size_t total = c.identical + c.within.size() + c.over.size();
    if (!c.within.empty()) {
        fmt::print("{} value(s) differ by at most the tolerance {:g}:\n", c.within.size(), tolerance);
        print_differences(c.within);
    }
    if (!c.over.empty()) {
        fmt::print("{} value(s) differ{}{}:\n", c.over.size(), tolerance > 0 ? " by more than the tolerance" : "",
                   largest(c.over));
        print_differences(c.over);
    }
    bool reproduced = same_status && c.over.empty();
    fmt::print("run {} {}: {} of {} metric value(s) identical{}\n", run.id,
               reproduced ? "reproduced" : "not reproduced", c.identical, total,
               c.within.empty() ? "" : fmt::format(", {} within {:g}", c.within.size(), tolerance));
    return reproduced ? 0 : 1;
}

// One trial on a one-worker pool; the rerun's log, run folder and (unless warm) cache in its own folder.
CollectingSink run_again(const RunDetails& run, const RecordedTrial& r, const RerunOptions& o,
                         const ResultsLayout& db_layout) {
    ResultsLayout scratch = db_layout.rerun(run.id);
    std::error_code ec;
    // The last rerun's folder, its cache too: logs_dir() ends in a separator, so its parent_path()
    // was logs/ itself, and a second rerun read the first one's cached stages.
    std::filesystem::remove_all(db_layout.rerun_dir(run.id), ec);
    std::filesystem::create_directories(scratch.logs_dir(), ec);
    RecordedSettings settings = recorded_settings(run);
    if (!settings.unreadable.empty())
        fmt::print("note: the recorded sweep does not read back today ({}); the rerun has no time or memory limit "
                   "and stops at a non-finite loss\n",
                   settings.unreadable);
    int threads = o.threads > 0 ? o.threads : std::max(1, std::atoi(run.threads.c_str()));
    std::string text =
        payload(r.trial, run.id, threads, settings.memory_mb, settings.on_nonfinite, absolute_path(o.common.data_dir()),
                o.warm_cache ? db_layout : scratch, scratch.run_dir(run.id));
    fmt::print("rerun of run {} ({}{}seed {}): {} thread(s), {} cache; log {}\n", run.id,
               run.sweep.empty() ? "" : "sweep " + run.sweep + ", ", run.arm.empty() ? "" : "arm " + run.arm + ", ",
               run.seed, threads, o.warm_cache ? "the database's" : "a fresh", scratch.log_file(run.id).string());
    std::fflush(stdout);
    CollectingSink sink;
    SchedulerOptions so{1,
                        threads,
                        settings.timeout_s,
                        settings.memory_mb,
                        scratch,
                        [&](const QueuedTrial&) {
                            return TrialText{text, "run " + std::to_string(run.id)};
                        },
                        ""};
    so.after_failure = "nothing was recorded: free the cause and run the same command again";
    install_stop_handlers();
    // The fresh cache is this rerun's alone (the next rerun of the run starts another): its decoded
    // data sets and backbones, hundreds of MB a run, go when the rerun ends; its log and run folder stay.
    struct DropCache {
        std::filesystem::path dir;
        ~DropCache() {
            std::error_code ec;
            if (!dir.empty()) std::filesystem::remove_all(dir, ec);
        }
    } drop{o.warm_cache ? std::filesystem::path() : scratch.cache_dir()};
    sink.stop_signal = Scheduler(so, sink).run({QueuedTrial{run.id}}).stop_signal;
    return sink;
}

// One run rerun and compared, the command's whole output for it: 0 reproduced, 1 not, 128 + the
// signal when the user stopped it.
int rerun_one(const std::string& id_or_key, const RerunOptions& o, const PluginRegistry& reg) {
    auto store = Store::open_read(o.common.db_path());
    auto run = load_run_details(*store, id_or_key);
    if (!run)
        throw UserError("no run '" + id_or_key + "' in " + store->path() +
                        " (give a run id or a key prefix of 6+ characters)");
    if (run->status == "pending" || run->status == "running")
        throw UserError(
            fmt::format("run {} is {}: there is nothing recorded to compare a rerun with", run->id, run->status));
    if (run->status == "interrupted") // its rows stop where the user stopped it: a rerun cannot match them
        throw UserError(fmt::format("run {} was interrupted: `iclr run` its sweep again to finish it", run->id));
    RecordedTrial trial = recorded_trial(*run, reg);
    for (const auto& line : trial.other_builds)
        fmt::print("note: {}\n", line);
    std::vector<RecordedMetric> recorded = load_metric_rows(*store, run->id);
    ResultsLayout layout(store->path());
    store.reset(); // the rerun may take minutes; hold nothing open on the database meanwhile
    CollectingSink rerun = run_again(*run, trial, o, layout);
    if (rerun.stop_signal) {
        fmt::print("stopped by {}; nothing was recorded\n", signal_name(rerun.stop_signal));
        return 128 + rerun.stop_signal;
    }
    if (rerun.start) print_setting(*run, *rerun.start);
    if (!rerun.end) throw HostError(fmt::format("run {}: the rerun's worker reported no end", run->id));
    return print_outcome(*run, *rerun.end, compare(recorded, rerun.metrics, o.tolerance), o.tolerance);
}

// The runs of the sweep as written that a rerun can compare (done, diverged, failed, timed out), in
// id order; at most o.sample of them, drawn by a generator seeded with o.sample_seed.
std::vector<int64_t> sweep_sample(const std::string& sweep, const RerunOptions& o) {
    auto store = Store::open_read(o.common.db_path());
    share_sweep_runs(*store, sweep, o.variant);
    std::vector<int64_t> ids;
    for (const auto& row : run_query(*store,
                                     "SELECT r.id FROM runs r JOIN sweep_runs s ON s.id = r.id WHERE r.status IN "
                                     "('done', 'diverged', 'failed', 'timeout') ORDER BY r.id",
                                     true)
                               .rows)
        ids.push_back(std::strtoll(row[0].c_str(), nullptr, 10));
    if (o.sample == 0 || ids.size() <= size_t(o.sample)) return ids;
    std::vector<int64_t> picked; // std::sample keeps the ids' order
    std::mt19937_64 gen(o.sample_seed);
    std::sample(ids.begin(), ids.end(), std::back_inserter(picked), o.sample, gen);
    return picked;
}

std::string id_list(const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t id : ids)
        s += (s.empty() ? "" : ", ") + std::to_string(id);
    return s;
}

// What `iclr rerun --sweep` found of one sweep's sample.
struct SweepRerun {
    size_t compared = 0;
    std::vector<int64_t> not_reproduced;
    int exit = 0; // 0 all reproduced, 1 not, 128 + a signal when stopped
};

// A sample of the sweep's runs rerun one after another, each compared, then one line for them all.
SweepRerun rerun_sweep(const std::string& sweep, const RerunOptions& o, const PluginRegistry& reg) {
    std::vector<int64_t> ids = sweep_sample(sweep, o);
    if (ids.empty())
        throw UserError(fmt::format("{}: no finished run of the sweep as written{} in {}", sweep, o.variant.flags(),
                                    o.common.db_path()));
    fmt::print("{} run(s) of {}{} to rerun, one after another: run {}\n", ids.size(), sweep, o.variant.flags(),
               id_list(ids));
    SweepRerun out;
    for (size_t i = 0; i < ids.size(); ++i) {
        fmt::print("\n");
        int rc = 1;
        try {
            rc = rerun_one(std::to_string(ids[i]), o, reg);
        } catch (const UserError& e) { // one run that cannot be rerun does not end the others'
            fmt::print("{}\n", e.what());
        } catch (const HostError&) { // workers that cannot start, a full disk: every later run would meet it
            fmt::print("\n{}: stopped at run {} ({} of {}); {}\n", sweep, ids[i], i + 1, ids.size(),
                       i == 0
                           ? std::string("no run was compared")
                           : fmt::format("{} of the {} run(s) before it reproduced", i - out.not_reproduced.size(), i));
            throw;
        }
        if (rc >= 128) return {i, out.not_reproduced, rc};
        if (rc) out.not_reproduced.push_back(ids[i]);
        ++out.compared;
    }
    fmt::print("\n{}: {} of {} run(s) reproduced{}\n", sweep, ids.size() - out.not_reproduced.size(), ids.size(),
               out.not_reproduced.empty() ? "" : "; not reproduced: run " + id_list(out.not_reproduced));
    out.exit = out.not_reproduced.empty() ? 0 : 1;
    return out;
}

// Several sweeps' samples in turn, then one line for them all; a sweep with no finished run as
// written here is passed over, named at the end.
int rerun_sweeps(const RerunOptions& o, const PluginRegistry& reg) {
    size_t compared = 0;
    std::vector<std::string> not_reproduced, unrerun;
    int exit = 0;
    for (size_t i = 0; i < o.sweeps.size(); ++i) {
        if (i) fmt::print("\n");
        SweepRerun r;
        try {
            r = rerun_sweep(o.sweeps[i], o, reg);
        } catch (const UserError& e) {
            print_error(e);
            unrerun.push_back(o.sweeps[i]);
            exit = std::max(exit, 2);
            continue;
        }
        if (r.exit >= 128) return r.exit;
        compared += r.compared;
        for (int64_t id : r.not_reproduced)
            not_reproduced.push_back(fmt::format("{} run {}", o.sweeps[i], id));
        exit = std::max(exit, r.exit);
    }
    fmt::print("\n{} sweep(s): {} of {} run(s) reproduced{}{}\n", o.sweeps.size(), compared - not_reproduced.size(),
               compared,
               not_reproduced.empty() ? "" : fmt::format("; not reproduced: {}", fmt::join(not_reproduced, ", ")),
               unrerun.empty() ? "" : "; not rerun (above):" + shell_words(unrerun));
    return exit;
}

} // namespace

int cmd_rerun(const RerunOptions& o) {
    if (o.sweeps.empty() == o.run.empty())
        throw UserError("iclr rerun takes a run (its id or a key prefix) or --sweep FILE, one of the two");
    PluginRegistry reg;
    reg.discover();
    if (o.sweeps.empty()) return rerun_one(o.run, o, reg);
    if (o.sweeps.size() > 1) return rerun_sweeps(o, reg);
    return rerun_sweep(o.sweeps.front(), o, reg).exit;
}

} // namespace iclr
