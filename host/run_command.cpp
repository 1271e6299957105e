// `iclr run SWEEP`: validate, record the sweep, skip finished trials, run the rest on the pool.
#include <signal.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "commands.hpp"
#include "expansion.hpp"
#include "process.hpp"
#include "run_lock.hpp"
#include "scheduler.hpp"
#include "sha256.hpp"
#include "store.hpp"
#include "validate.hpp"
#include "values.hpp"

#ifndef ICLR_SOURCE_DIR
#define ICLR_SOURCE_DIR ""
#endif

namespace iclr {
namespace fs = std::filesystem;

std::string default_db() {
    const char* e = std::getenv("ICLR_DB");
    return e && *e ? e : "results/iclr.db";
}
std::string default_data() {
    const char* e = std::getenv("ICLR_DATA");
    return e && *e ? e : "data";
}

namespace {

constexpr uint64_t kMaxTrialsPerRun = 1'000'000;

struct GitState {
    std::string commit;
    int dirty = -1;
};

GitState git_state(const std::string& dir) {
    GitState g;
    if (dir.empty()) return g;
    Captured head = run_capture({"/usr/bin/env", "git", "-C", dir, "rev-parse", "HEAD"}, true);
    if (head.status != 0) return g;
    g.commit = head.out.substr(0, head.out.find('\n'));
    Captured st =
        run_capture({"/usr/bin/env", "git", "-C", dir, "status", "--porcelain", "--untracked-files=no"}, true);
    if (st.status == 0) g.dirty = st.out.empty() ? 0 : 1;
    return g;
}

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

std::string payload(const ResolvedTrial& t, int64_t run_id, int threads, int64_t memory_mb, const std::string& data_dir,
                    const std::string& cache_dir, const std::string& runs_dir) {
    auto str = [](const std::string& s) { return value_to_toml(Value::of_string(s)); };
    std::string p = "run_id = " + std::to_string(run_id) + "\nseed = " + std::to_string(t.seed) +
                    "\nthreads = " + std::to_string(threads) + "\nmemory_mb = " + std::to_string(memory_mb) +
                    "\ndevice = \"auto\"\ndata_dir = " + str(data_dir) + "\ncache_dir = " + str(cache_dir) +
                    "\nrun_dir = " + str(runs_dir + "/" + std::to_string(run_id)) + "\n";
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

std::string absolute(const std::string& p) {
    std::error_code ec;
    auto a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

} // namespace

int cmd_run(const RunOptions& o) {
    SweepSpec spec = parse_sweep(o.sweep, o.profile);
    PluginRegistry reg;
    reg.discover();
    auto plugins = validate_sweep(spec, reg);
    Expansion ex(spec);
    if (ex.raw_count() > kMaxTrialsPerRun)
        throw UserError(
            fmt::format("{}: {} trials is more than one `iclr run` takes ({}); split the sweep or sample it", o.sweep,
                        ex.raw_count(), kMaxTrialsPerRun));

    std::string db_path = o.common.db.empty() ? default_db() : o.common.db;
    std::string results_dir = fs::path(absolute(db_path)).parent_path().string();
    std::string data_dir = absolute(o.common.data.empty() ? default_data() : o.common.data);
    // Logs and run folders are per database (run ids restart in each); the cache is shared, as its
    // keys are content hashes.
    std::string db_stem = fs::path(db_path).stem().string();
    RunLock lock(db_path, spec.name);
    auto store = Store::open_write(db_path);
    int recovered = store->recover_stale_running();
    if (recovered) fmt::print("{} run(s) left running by an earlier host are now marked interrupted\n", recovered);

    GitState git = git_state(ICLR_SOURCE_DIR);
    SweepRecord rec{spec.name,  absolute(o.sweep), o.profile, spec.source_text, sha256_hex(spec.source_text),
                    git.commit, host_name(),       git.dirty};
    int jobs = o.jobs > 0 ? o.jobs : spec.jobs;
    int cores = available_cores();
    int threads = o.threads > 0 ? o.threads : std::max(1, cores / jobs);

    std::deque<QueuedTrial> queue;
    int64_t skipped = 0, duplicates = 0;
    store->begin();
    int64_t sweep_id = store->add_sweep(rec);
    std::set<std::string> seen;
    ex.for_each([&](const TrialPoint& p) {
        ResolvedTrial t = resolve_trial(spec, plugins, p);
        if (!seen.insert(t.key).second) {
            ++duplicates;
            return true;
        }
        auto existing = store->find_run(t.key);
        if (existing && existing->second == "done") {
            ++skipped;
            return true;
        }
        int64_t id = store->prepare_run(sweep_id, t, plugins_json(t), git.commit, git.dirty);
        queue.push_back({id, p.index});
        return true;
    });
    store->commit();

    int64_t total = int64_t(queue.size());
    fmt::print("sweep {} (#{}): {} trials, {} already done, {} to run; {} job(s) x {} thread(s); db {}\n", spec.name,
               sweep_id, total + skipped, skipped, total, jobs, threads, db_path);
    if (duplicates) fmt::print("note: {} trial(s) repeat an identical configuration and run once\n", duplicates);
    std::fflush(stdout);

    install_stop_handlers();
    Progress progress(total, isatty(STDOUT_FILENO));
    SchedulerOptions so{
        jobs, threads, spec.timeout_s, spec.memory_mb, results_dir + "/logs/" + db_stem, [&](const QueuedTrial& q) {
            TrialPoint p = ex.at(q.index);
            ResolvedTrial t = resolve_trial(spec, plugins, p);
            return TrialText{payload(t, q.run_id, threads, spec.memory_mb, data_dir, results_dir + "/cache",
                                     results_dir + "/runs/" + db_stem),
                             describe_point(spec, p)};
        }};
    Scheduler sched(*store, so, progress);
    auto start = std::chrono::steady_clock::now();
    SchedulerResult r = sched.run(std::move(queue));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t not_started = total - r.done - r.failed - r.interrupted;
    fmt::print("sweep {}: {} done, {} failed, {} interrupted{}, {} skipped (already done) in {}\n", spec.name, r.done,
               r.failed, r.interrupted, not_started > 0 ? fmt::format(", {} not started", not_started) : "", skipped,
               format_duration(secs));
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

} // namespace iclr
