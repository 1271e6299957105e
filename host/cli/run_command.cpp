// `iclr run SWEEP`: validate, record the sweep, skip finished trials, run the rest on the pool.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/git_state.hpp"
#include "cli/run_sink.hpp"
#include "common/duration.hpp"
#include "common/file_hash.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "common/values.hpp"
#include "exec/scheduler.hpp"
#include "exec/stop_signal.hpp"
#include "store/run_lock.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/trial.hpp"

namespace iclr {
namespace {

constexpr uint64_t kMaxTrialsPerRun = 1'000'000;

std::string plugins_json(const ResolvedTrial& t) {
    std::string s = "{";
    for (size_t k = 0; k < t.parts.size(); ++k) {
        const auto& p = t.parts[k];
        s += (k ? "," : "") + json_escape(p.section->label) + ":{\"name\":" + json_escape(p.plugin->name) +
             ",\"version\":" + json_escape(p.plugin->version) + ",\"file\":" + json_escape(p.plugin->file) +
             ",\"sha256\":" + json_escape(p.plugin->sha256) + "}";
    }
    return s + "}";
}

// The trial as the store records it: plain rows.
RunRow run_row(const ResolvedTrial& t, int64_t sweep_id, const GitState& git, const std::string& arm) {
    RunRow row{t.key,           sweep_id, t.index,    t.seed,    "", "", "", t.config_toml, config_json(t.config_toml),
               plugins_json(t), {},       git.commit, git.dirty, arm};
    for (const auto& p : t.parts) {
        if (p.section->role == "dataset") row.dataset = p.plugin->name;
        if (p.section->role == "model") row.model = p.plugin->name;
        if (p.section->role == "method") row.method = p.plugin->name;
        for (const auto& [k, v] : p.params.values)
            row.params.emplace_back(p.section->label + "." + k, v);
    }
    return row;
}

std::string str(const std::string& s) { return value_to_toml(Value::of_string(s)); }

// What the worker gets for one trial (protocol.hpp: "TRIAL <bytes>" then this TOML).
std::string payload(const ResolvedTrial& t, int64_t run_id, int threads, int64_t memory_mb,
                    const std::string& on_nonfinite, const std::string& data_dir, const ResultsLayout& layout) {
    std::string p = "run_id = " + std::to_string(run_id) + "\nseed = " + std::to_string(t.seed) +
                    "\nthreads = " + std::to_string(threads) + "\nmemory_mb = " + std::to_string(memory_mb) +
                    "\ndevice = \"auto\"\non_nonfinite = " + str(on_nonfinite) + "\ndata_dir = " + str(data_dir) +
                    "\ncache_dir = " + str(layout.cache_dir().string()) +
                    "\nrun_dir = " + str(layout.run_dir(run_id).string()) + "\n";
    for (const auto& part : t.parts) {
        p += "\n[[part]]\nrole = " + str(part.section->role) + "\nlabel = " + str(part.section->label) +
             "\nplugin = " + str(part.plugin->name) + "\nversion = " + str(part.plugin->version) +
             "\nfile = " + str(part.plugin->file) + "\nparams = {";
        bool first = true;
        for (const auto& [k, v] : part.params.values) {
            p += (first ? " " : ", ") + k + " = " + value_to_toml(v);
            first = false;
        }
        p += first ? "}\n" : " }\n";
    }
    return p;
}

struct Planned {
    int64_t sweep_id = 0;
    std::deque<QueuedTrial> queue;
    int64_t skipped = 0, duplicates = 0;
    // finished trials whose plugin library differs from today's build, by "name version"
    std::map<std::string, int64_t> changed_builds;
};

// The plugins of t whose library today differs from the one that produced the stored run (the
// same version, or the trial key would differ): compared by SHA-256, so a moved build is no change.
std::vector<std::string> changed_plugins(const ResolvedTrial& t, const std::string& stored_plugins_json) {
    std::vector<std::string> changed;
    for (const auto& p : t.parts)
        if (stored_plugins_json.find("\"sha256\":" + json_escape(p.plugin->sha256)) == std::string::npos)
            changed.push_back(p.plugin->name + " " + p.plugin->version);
    return changed;
}

// Records the sweep and a pending run for every trial not already done, in one transaction.
Planned plan_runs(Store& store, const SweepArms& arms, const RunOptions& o) {
    const SweepSpec& spec = arms.base();
    GitState git = git_state();
    SweepRecord rec{spec.name,
                    absolute_path(o.sweep),
                    o.profile,
                    spec.source_text,
                    sha256_hex(spec.source_text),
                    git.commit,
                    host_name(),
                    git.dirty};
    Planned plan;
    std::set<std::string> seen;
    store.begin();
    plan.sweep_id = store.add_sweep(rec);
    for (uint32_t k = 0; k < arms.specs.size(); ++k)
        arms.expansions[k]->for_each([&](const TrialPoint& p) {
            ResolvedTrial t = resolve_trial(arms.specs[k], arms.plugins[k], p);
            if (!seen.insert(t.key).second) {
                ++plan.duplicates;
                return true;
            }
            const std::string& arm = arms.specs[k].arm;
            auto existing = store.find_run(t.key);
            if (existing && is_final(existing->status)) {
                auto changed = changed_plugins(t, existing->plugins_json);
                for (const auto& c : changed)
                    ++plan.changed_builds[c];
                if (changed.empty() || !o.rerun_changed) {
                    if (existing->arm != arm) store.set_arm(existing->id, arm); // same config: no rerun
                    ++plan.skipped;
                    return true;
                }
            }
            plan.queue.push_back({store.prepare_run(run_row(t, plan.sweep_id, git, arm), existing), p.index, k});
            return true;
        });
    store.commit();
    return plan;
}

// Never silent: trials a different build of a plugin produced are named before anything runs.
void warn_changed_builds(const Planned& plan, bool rerun) {
    for (const auto& [plugin, n] : plan.changed_builds)
        if (rerun)
            fmt::print("rerunning {} trial(s) that an older build of {} produced (--rerun-changed)\n", n, plugin);
        else
            fmt::print("note: {} trial(s) were run with an older build of {} (its library's SHA-256 differs): "
                       "--rerun-changed reruns them; bump the plugin's version to keep both\n",
                       n, plugin);
}

int report(const SweepSpec& spec, const SchedulerResult& r, int64_t total, int64_t skipped, int64_t sweep_id,
           double secs) {
    int64_t not_started = total - r.done - r.failed - r.interrupted - r.diverged;
    fmt::print("sweep {}: {} done, {} failed, {} interrupted{}{}, {} skipped (already done) in {}\n", spec.name, r.done,
               r.failed, r.interrupted, r.diverged ? fmt::format(", {} diverged", r.diverged) : "",
               not_started > 0 ? fmt::format(", {} not started", not_started) : "", skipped, format_duration(secs));
    if (r.diverged)
        fmt::print("diverged: iclr query \"SELECT id, diverged_step, error FROM runs WHERE sweep_id = {} AND "
                   "status = 'diverged'\"\n",
                   sweep_id);
    if (r.failed)
        fmt::print(
            "failures: iclr query \"SELECT id, status, error FROM runs WHERE sweep_id = {} AND status <> 'done'\"\n",
            sweep_id);
    if (r.stop_signal) {
        fmt::print("stopped by {}; run the same command again to finish the remaining trials\n",
                   signal_name(r.stop_signal));
        return 128 + r.stop_signal;
    }
    return r.failed ? 1 : 0;
}

} // namespace

int cmd_run(const RunOptions& o) {
    PluginRegistry reg;
    reg.discover();
    SweepArms arms = load_sweep(o.sweep, o.profile, reg);
    const SweepSpec& spec = arms.base();
    if (arms.raw_count() > kMaxTrialsPerRun)
        throw UserError(
            fmt::format("{}: {} trials is more than one `iclr run` takes ({}); split the sweep or sample it", o.sweep,
                        arms.raw_count(), kMaxTrialsPerRun));

    std::string db_path = o.common.db_path();
    std::string data_dir = absolute_path(o.common.data_dir());
    RunLock lock(db_path, spec.name);
    ResultsLayout layout(db_path); // after the lock made the file: the layout follows its real path
    auto store = Store::open_write(db_path);
    store->set_lock_wait([&db_path, said = -30.0](double waited) mutable {
        // Another process (a sqlite3 shell in a transaction, a backup) holds the write lock: wait
        // for it, saying so every 30 s, until it lets go or the user stops the sweep.
        if (stop_signal()) return false;
        if (waited >= 5.0 && waited - said >= 30.0) {
            said = waited;
            fmt::print(stderr, "iclr: waiting for another process's write lock on {} ({:.0f} s so far)\n", db_path,
                       waited);
        }
        return true;
    });
    if (int n = store->recover_stale_running())
        fmt::print("{} run(s) left running by an earlier host are now marked interrupted\n", n);

    Planned plan = plan_runs(*store, arms, o);
    auto total = int64_t(plan.queue.size());
    int jobs = o.jobs.empty() ? spec.jobs : o.jobs == "auto" ? 0 : std::stoi(o.jobs);
    if (jobs == 0) { // auto: every core busy with a trial of its own (one thread each beat two threads
                     // on one trial by 1.4x on small MLPs, `make bench`), fewer when fewer trials are left
        jobs = int(std::clamp<int64_t>(std::min<int64_t>(available_cores(), total), 1, 256));
        fmt::print("jobs = auto: {} core(s), {} trial(s) to run -> {} job(s)\n", available_cores(), total, jobs);
    }
    int threads = o.threads > 0 ? o.threads : std::max(1, available_cores() / jobs);
    fmt::print("sweep {} (#{}): {} trials, {} already done, {} to run; {} job(s) x {} thread(s); db {}\n", spec.name,
               plan.sweep_id, total + plan.skipped, plan.skipped, total, jobs, threads, db_path);
    if (plan.duplicates)
        fmt::print("note: {} trial(s) repeat an identical configuration and run once\n", plan.duplicates);
    warn_changed_builds(plan, o.rerun_changed);
    std::fflush(stdout);

    install_stop_handlers();
    Progress progress(total, isatty(STDOUT_FILENO));
    StoreSink sink(*store, progress);
    SchedulerOptions so{jobs,
                        threads,
                        spec.timeout_s,
                        spec.memory_mb,
                        layout,
                        [&](const QueuedTrial& q) {
                            TrialPoint p = arms.expansions[q.arm]->at(q.index);
                            ResolvedTrial t = resolve_trial(arms.specs[q.arm], arms.plugins[q.arm], p);
                            return TrialText{
                                payload(t, q.run_id, threads, spec.memory_mb, spec.on_nonfinite, data_dir, layout),
                                arms.describe(q.arm, p)};
                        },
                        ""};
    auto start = std::chrono::steady_clock::now();
    SchedulerResult r;
    try {
        r = Scheduler(so, sink).run(std::move(plan.queue));
        sink.flush();
    } catch (...) {
        progress.clear_line();
        throw;
    }
    progress.clear_line();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report(spec, r, total, plan.skipped, plan.sweep_id, secs);
}

} // namespace iclr
