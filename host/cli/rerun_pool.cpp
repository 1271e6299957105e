// `iclr rerun`'s runs side by side on one pool of workers, each in a folder and cache of its own.
#include "cli/rerun_pool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli/recorded_trial.hpp"
#include "cli/run_plan.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "exec/scheduler.hpp"
#include "exec/stop_signal.hpp"

namespace iclr {

RerunClaim::RerunClaim(const ResultsLayout& db, int64_t run) {
    const std::filesystem::path lock_file = db.rerun_lock(run);
    std::error_code ec;
    std::filesystem::create_directories(lock_file.parent_path(), ec);
    fd_ = open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw UserError(fmt::format("run {}: cannot open {}: {}", run, lock_file.string(), std::strerror(errno)));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char holder[64] = {};
        ssize_t n = pread(fd_, holder, sizeof holder - 1, 0);
        close(fd_);
        fd_ = -1;
        std::string who = n > 0 ? std::string(holder, size_t(n)) : "";
        if (!who.empty() && who.back() == '\n') who.pop_back();
        throw UserError(fmt::format("run {} is being rerun by another iclr ({}): wait for it to end, as the two "
                                    "would share {}",
                                    run, who.empty() ? "holder unknown" : who, db.rerun_dir(run).string() + "/"));
    }
    // The pid is only for the message a second command gets; the lock holds without it.
    std::string me = fmt::format("pid {}\n", getpid());
    if (ftruncate(fd_, 0) == 0) (void)!pwrite(fd_, me.data(), me.size(), 0);
}

// The lock file stays: removing it would let a third command lock a new file while a second still
// waits on the old one's inode.
RerunClaim::~RerunClaim() {
    if (fd_ >= 0) close(fd_);
}

RerunJob prepare_rerun(Store& store, const std::string& id_or_key, const RerunOptions& o, const PluginRegistry& reg) {
    auto run = load_run_details(store, id_or_key);
    if (!run)
        throw UserError("no run '" + id_or_key + "' in " + store.path() +
                        " (give a run id or a key prefix of 6+ characters)");
    if (run->status == "pending" || run->status == "running")
        throw UserError(
            fmt::format("run {} is {}: there is nothing recorded to compare a rerun with", run->id, run->status));
    if (run->status == "interrupted") // its rows stop where the user stopped it: a rerun cannot match them
        throw UserError(fmt::format("run {} was interrupted: `iclr run` its sweep again to finish it", run->id));
    RecordedTrial trial = recorded_trial(*run, reg);
    ResultsLayout db_layout(store.path());
    RerunClaim claim(db_layout, run->id); // before its folder is cleared below
    RerunJob job{*run, load_metric_rows(store, run->id), {}, 1, 0, 0, {}, db_layout.rerun(run->id), std::move(claim)};
    for (const auto& line : trial.other_builds)
        job.notes.push_back("note: " + line);
    RecordedSettings settings = recorded_settings(*run);
    if (!settings.unreadable.empty())
        job.notes.push_back(fmt::format("note: the recorded sweep does not read back today ({}); the rerun has no "
                                        "time or memory limit and stops at a non-finite loss",
                                        settings.unreadable));
    job.threads = o.threads > 0 ? o.threads : std::max(1, std::atoi(run->threads.c_str()));
    job.timeout_s = settings.timeout_s;
    job.memory_mb = settings.memory_mb;
    // The last rerun's folder, its cache too: logs_dir() ends in a separator, so its parent_path()
    // was logs/ itself, and a second rerun read the first one's cached stages.
    std::error_code ec;
    std::filesystem::remove_all(db_layout.rerun_dir(run->id), ec);
    job.payload = payload(trial.trial, run->id, job.threads, settings.memory_mb, settings.on_nonfinite,
                          absolute_path(o.common.data_dir()), o.warm_cache ? db_layout : job.scratch,
                          job.scratch.run_dir(run->id));
    return job;
}

std::string rerun_header(const RerunJob& job, bool warm_cache) {
    const RunDetails& run = job.run;
    return fmt::format("rerun of run {} ({}{}seed {}): {} thread(s), {} cache; log {}", run.id,
                       run.sweep.empty() ? "" : "sweep " + run.sweep + ", ",
                       run.arm.empty() ? "" : "arm " + run.arm + ", ", run.seed, job.threads,
                       warm_cache ? "the database's" : "a fresh", job.scratch.log_file(run.id).string());
}

namespace {

// The thread count most of the jobs recorded (the smaller on a tie).
int usual_threads(const std::vector<const RerunJob*>& jobs) {
    std::map<int, size_t> n;
    for (const RerunJob* j : jobs)
        ++n[j->threads];
    auto most = std::max_element(n.begin(), n.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return most == n.end() ? 1 : most->first;
}

// On a terminal, one rewriting line of the runs going: "[3/10] ended  running: run 4 12s, run 7 3s",
// so that a long rerun, whose lines come when it ends, shows that it goes on.
class LiveLine {
  public:
    explicit LiveLine(size_t total) : total_(total), tty_(isatty(STDOUT_FILENO)) {}
    ~LiveLine() { clear(); }
    void started(int64_t run) {
        running_[run] = Clock::now();
        draw();
    }
    void ended(int64_t run) {
        running_.erase(run);
        ++ended_;
    }
    void clear() {
        if (tty_) std::fputs("\r\033[K", stdout);
    }
    void draw() {
        if (!tty_) return;
        auto now = Clock::now();
        std::vector<std::string> going;
        for (const auto& [run, since] : running_)
            going.push_back(
                fmt::format("run {} {}", run, format_duration(std::chrono::duration<double>(now - since).count())));
        clear();
        fmt::print("[{}/{}] ended{}", ended_, total_,
                   going.empty() ? "" : fmt::format("  running: {}", fmt::join(going, ", ")));
        std::fflush(stdout);
        drawn_ = now;
    }
    void tick() {
        if (Clock::now() - drawn_ >= std::chrono::milliseconds(200)) draw();
    }

  private:
    using Clock = std::chrono::steady_clock;
    size_t total_, ended_ = 0; // over the pools of one command
    bool tty_;
    std::map<int64_t, Clock::time_point> running_;
    Clock::time_point drawn_{};
};

// Each job's worker reports collected by run, handed on as each ends; a fresh cache goes then.
class RerunSink : public RunSink {
  public:
    RerunSink(std::map<int64_t, const RerunJob*> jobs, bool warm_cache,
              const std::function<void(const RerunJob&, const RerunResult&)>& ended, LiveLine& live)
        : jobs_(std::move(jobs)), warm_cache_(warm_cache), ended_(ended), live_(live) {}

    void run_started(const RunStart& s) override {
        results_[s.run].start = s;
        live_.started(s.run);
    }
    void metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) override {
        results_[run].metrics.push_back({key, task, step, value});
    }
    void attribute(int64_t, const std::string&, const std::string&) override {}
    void artifact(int64_t, const std::string&, const std::string&) override {}
    void run_finished(const RunEnd& e, const std::string&) override {
        RerunResult r = std::move(results_[e.run]);
        results_.erase(e.run);
        const RerunJob& job = *jobs_.at(e.run);
        drop_cache(job);
        live_.ended(e.run);
        live_.clear();
        if (stop_signal() && e.status == RunStatus::Interrupted) return; // cut short: nothing to compare
        r.end = e;
        ended_(job, r);
        live_.draw();
    }
    void idle() override { live_.tick(); }

    // The fresh cache is the rerun's alone (the next rerun of the run starts another): its decoded
    // data sets and backbones, hundreds of MB a run, go when the rerun ends; its log and run folder stay.
    void drop_cache(const RerunJob& job) const {
        std::error_code ec;
        if (!warm_cache_) std::filesystem::remove_all(job.scratch.cache_dir(), ec);
    }
    ~RerunSink() override { // the runs a stop or a failure cut short
        for (const auto& [id, job] : jobs_)
            drop_cache(*job);
    }

  private:
    std::map<int64_t, const RerunJob*> jobs_;
    bool warm_cache_;
    const std::function<void(const RerunJob&, const RerunResult&)>& ended_;
    LiveLine& live_;
    std::map<int64_t, RerunResult> results_;
};

// One pool for jobs that share a memory limit.
int run_pool(const std::vector<const RerunJob*>& jobs, int workers, bool warm_cache,
             const std::function<void(const RerunJob&, const RerunResult&)>& ended, LiveLine& live) {
    std::map<int64_t, const RerunJob*> by_run;
    for (const RerunJob* j : jobs)
        by_run[j->run.id] = j;
    int threads = usual_threads(jobs);
    // The usual thread count first: a trial with its own count waits until none of the pool's runs
    // (scheduler.hpp), so that queued behind them it starts as they end, not between them.
    std::deque<QueuedTrial> queue;
    for (bool usual : {true, false})
        for (const RerunJob* j : jobs)
            if ((j->threads == threads) == usual)
                queue.push_back({j->run.id, 0, 0, 0, usual ? 0 : j->threads, float(j->timeout_s)});
    RerunSink sink(by_run, warm_cache, ended, live);
    SchedulerOptions so{workers,
                        threads,
                        0,
                        jobs.front()->memory_mb,
                        jobs.front()->scratch,
                        [&](const QueuedTrial& q) {
                            const RerunJob& j = *by_run.at(q.run_id);
                            // Its own data scope: a kept worker loads each run's data sets again, from its cache.
                            return TrialText{with_data_scope("rerun " + std::to_string(q.run_id), j.payload),
                                             "run " + std::to_string(q.run_id), j.scratch.log_file(q.run_id)};
                        },
                        ""};
    so.after_failure = "nothing was recorded: free the cause and run the same command again";
    return Scheduler(so, sink).run(std::move(queue)).stop_signal;
}

} // namespace

int rerun_workers(int requested, const std::vector<RerunJob>& jobs) {
    if (requested > 0) return requested;
    std::vector<const RerunJob*> all;
    for (const RerunJob& j : jobs)
        all.push_back(&j);
    int workers = std::max(1, available_cores() / usual_threads(all));
    return int(std::clamp<size_t>(size_t(workers), 1, std::max<size_t>(1, jobs.size())));
}

int run_reruns(const std::vector<RerunJob>& jobs, int workers, bool warm_cache,
               const std::function<void(const RerunJob&, const RerunResult&)>& ended) {
    install_stop_handlers();
    LiveLine live(jobs.size());
    for (size_t i = 0; i < jobs.size();) { // a memory limit is a worker's, set as it starts
        std::vector<const RerunJob*> alike;
        for (size_t first = i; i < jobs.size() && jobs[i].memory_mb == jobs[first].memory_mb; ++i)
            alike.push_back(&jobs[i]);
        if (int signal = run_pool(alike, workers, warm_cache, ended, live)) return signal;
    }
    return 0;
}

} // namespace iclr
