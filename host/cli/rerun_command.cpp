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
#include "cli/rerun_pool.hpp"
#include "cli/run_plan.hpp"
#include "cli/table.hpp"
#include "common/build_info.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "store/query.hpp"
#include "store/run_details.hpp"
#include "store/store.hpp"

namespace iclr {
namespace {

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

// The rerun's setting, its outcome and the verdict line: 0 when the status and every value reproduced.
int print_rerun(const RerunJob& job, const RerunResult& r, const RerunOptions& o) {
    if (r.start) print_setting(job.run, *r.start);
    return print_outcome(job.run, *r.end, compare(job.recorded, r.metrics, o.tolerance), o.tolerance);
}

void print_notes(const RerunJob& job) {
    for (const auto& line : job.notes)
        fmt::print("{}\n", line);
}

// One run rerun and compared, the command's whole output for it: 0 reproduced, 1 not, 128 + the
// signal when the user stopped it.
int rerun_one(const std::string& id_or_key, const RerunOptions& o, const PluginRegistry& reg) {
    std::vector<RerunJob> jobs;
    jobs.push_back(prepare_rerun(*Store::open_read(o.common.db_path()), id_or_key, o, reg));
    // The database is closed now: the rerun may take minutes, and it holds nothing open meanwhile.
    print_notes(jobs.front());
    fmt::print("{}\n", rerun_header(jobs.front(), o.warm_cache));
    std::fflush(stdout);
    int rc = 1;
    int signal =
        run_reruns(jobs, 1, o.warm_cache, [&](const RerunJob& j, const RerunResult& r) { rc = print_rerun(j, r, o); });
    if (signal) {
        fmt::print("stopped by {}; nothing was recorded\n", signal_name(signal));
        return 128 + signal;
    }
    return rc;
}

// The runs of the sweep as written that a rerun can compare (done, diverged, failed, timed out), in
// id order; at most o.sample of them, drawn by a generator seeded with o.sample_seed. None: an error.
std::vector<int64_t> sweep_sample(Store& store, const std::string& sweep, const RerunOptions& o) {
    share_sweep_runs(store, sweep, o.variant);
    std::vector<int64_t> ids;
    for (const auto& row : run_query(store,
                                     "SELECT r.id FROM runs r JOIN sweep_runs s ON s.id = r.id WHERE r.status IN "
                                     "('done', 'diverged', 'failed', 'timeout') ORDER BY r.id",
                                     true)
                               .rows)
        ids.push_back(std::strtoll(row[0].c_str(), nullptr, 10));
    if (ids.empty())
        throw UserError(fmt::format("{}: no finished run of the sweep as written{} in {}", sweep, o.variant.flags(),
                                    o.common.db_path()));
    if (o.sample == 0 || ids.size() <= size_t(o.sample)) return ids;
    std::vector<int64_t> picked; // std::sample keeps the ids' order
    std::mt19937_64 gen(o.sample_seed);
    std::sample(ids.begin(), ids.end(), std::back_inserter(picked), o.sample, gen);
    return picked;
}

std::string id_list(const std::vector<int64_t>& ids) { return fmt::format("{}", fmt::join(ids, ", ")); }

// One --sweep file's sample: its runs, how many have yet to end, which did not reproduce, and which
// could not be rerun (named above it: an edited config, another plugin version, another command
// rerunning it); both kinds fail the command.
struct SampledSweep {
    std::string file;
    std::vector<int64_t> ids;
    size_t left = 0;
    std::vector<int64_t> not_reproduced;
    std::vector<int64_t> not_rerun;
    std::string line() const {
        std::vector<int64_t> by_id = not_reproduced; // they end in any order
        std::sort(by_id.begin(), by_id.end());
        return fmt::format("{}: {} of {} run(s) reproduced{}{}", file, ids.size() - by_id.size() - not_rerun.size(),
                           ids.size(), by_id.empty() ? "" : "; not reproduced: run " + id_list(by_id),
                           not_rerun.empty() ? "" : "; not rerun (above): run " + id_list(not_rerun));
    }
};

// Every sweep's sample drawn and made ready to run: a run two sweeps drew runs once and counts for
// both; one that cannot be rerun is named and counts as not reproduced. A sweep with no finished run
// as written is named (throws when it is the only one) and left out.
struct RerunSample {
    std::vector<SampledSweep> sweeps;
    std::vector<std::string> unrerun;
    std::vector<RerunJob> jobs;
    std::map<int64_t, std::vector<size_t>> sweeps_of; // run -> its sweeps' tallies
};
RerunSample draw_samples(const RerunOptions& o, const PluginRegistry& reg) {
    RerunSample s;
    auto store = Store::open_read(o.common.db_path());
    for (const std::string& file : o.sweeps) {
        SampledSweep t{file, {}, 0, {}, {}};
        try {
            t.ids = sweep_sample(*store, file, o);
        } catch (const UserError& e) {
            if (o.sweeps.size() == 1) throw;
            print_error(e);
            s.unrerun.push_back(file);
            continue;
        }
        fmt::print("{} run(s) of {}{}: run {}\n", t.ids.size(), file, o.variant.flags(), id_list(t.ids));
        for (int64_t id : t.ids) {
            if (auto drawn = s.sweeps_of.find(id); drawn != s.sweeps_of.end()) { // a sweep before drew it
                drawn->second.push_back(s.sweeps.size());
                ++t.left;
                continue;
            }
            try {
                s.jobs.push_back(prepare_rerun(*store, std::to_string(id), o, reg));
                s.sweeps_of[id] = {s.sweeps.size()};
                ++t.left;
            } catch (const UserError& e) { // one run that cannot be rerun does not end the others'
                fmt::print("{}\n", e.what());
                t.not_rerun.push_back(id);
            }
        }
        s.sweeps.push_back(std::move(t));
    }
    return s;
}

// 0 when every sampled run reproduced, 1 when one did not or could not be rerun, 2 when a sweep had
// none to rerun; with several sweeps, one line for them all first.
int several_outcome(const RerunOptions& o, const RerunSample& s) {
    size_t runs = 0, reproduced = 0;
    std::vector<std::string> not_reproduced, not_rerun;
    for (const SampledSweep& t : s.sweeps) {
        runs += t.ids.size();
        reproduced += t.ids.size() - t.not_reproduced.size() - t.not_rerun.size();
        for (int64_t id : t.not_reproduced)
            not_reproduced.push_back(fmt::format("{} run {}", shell_word(t.file), id));
        for (int64_t id : t.not_rerun)
            not_rerun.push_back(fmt::format("{} run {}", shell_word(t.file), id));
    }
    for (const std::string& file : s.unrerun)
        not_rerun.push_back(shell_word(file));
    if (o.sweeps.size() > 1)
        fmt::print("\n{} sweep(s): {} of {} run(s) reproduced{}{}\n", o.sweeps.size(), reproduced, runs,
                   not_reproduced.empty() ? "" : fmt::format("; not reproduced: {}", fmt::join(not_reproduced, ", ")),
                   not_rerun.empty() ? "" : fmt::format("; not rerun (above): {}", fmt::join(not_rerun, ", ")));
    return !s.unrerun.empty() ? 2 : not_reproduced.empty() && not_rerun.empty() ? 0 : 1;
}

// The sweeps' samples on one pool (--jobs), each run's block printed as it ends and each sweep's line
// as its last run ends, then one line for them all when there are several.
int rerun_sweeps(const RerunOptions& o, const PluginRegistry& reg) {
    RerunSample s = draw_samples(o, reg);
    int workers = rerun_workers(o.jobs, s.jobs);
    fmt::print("{} run(s) to rerun, {}\n", s.jobs.size(),
               workers == 1 ? "one after another" : fmt::format("{} at a time", workers));
    for (const SampledSweep& t : s.sweeps)
        if (t.left == 0) fmt::print("\n{}\n", t.line()); // none of its runs could be rerun
    std::fflush(stdout);
    size_t compared = 0, reproduced = 0;
    auto ended = [&](const RerunJob& job, const RerunResult& r) {
        fmt::print("\n");
        print_notes(job);
        fmt::print("{}\n", rerun_header(job, o.warm_cache));
        int rc = print_rerun(job, r, o);
        ++compared;
        reproduced += rc == 0;
        for (size_t i : s.sweeps_of.at(job.run.id)) {
            SampledSweep& t = s.sweeps[i];
            if (rc) t.not_reproduced.push_back(job.run.id);
            if (--t.left == 0) fmt::print("\n{}\n", t.line());
        }
        std::fflush(stdout);
    };
    int signal = 0;
    try {
        signal = run_reruns(s.jobs, workers, o.warm_cache, ended);
    } catch (const HostError&) { // workers that cannot start, a full disk: every later run would meet it
        fmt::print("\n{}: stopped after {} of {} run(s); {}\n",
                   s.sweeps.size() == 1 ? s.sweeps.front().file : fmt::format("{} sweep(s)", o.sweeps.size()), compared,
                   s.jobs.size(),
                   compared == 0 ? std::string("no run was compared")
                                 : fmt::format("{} of them reproduced", reproduced));
        throw;
    }
    if (signal) {
        fmt::print("\nstopped by {} after {} of {} run(s); nothing was recorded\n", signal_name(signal), compared,
                   s.jobs.size());
        return 128 + signal;
    }
    return several_outcome(o, s);
}

} // namespace

int cmd_rerun(const RerunOptions& o) {
    if (o.sweeps.empty() == o.run.empty())
        throw UserError("iclr rerun takes a run (its id or a key prefix) or --sweep FILE, one of the two");
    PluginRegistry reg;
    reg.discover();
    if (o.sweeps.empty()) return rerun_one(o.run, o, reg);
    return rerun_sweeps(o, reg);
}

} // namespace iclr
