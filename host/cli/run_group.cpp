// `iclr run A B` on the local pool: consecutive sweeps whose pools would be alike run as one queue,
// so that one sweep's last trials run beside the next one's first instead of beside idle cores.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <unordered_map>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli/commands.hpp"
#include "cli/plugin_provenance.hpp"
#include "cli/progress.hpp"
#include "cli/run_plan.hpp"
#include "cli/run_sink.hpp"
#include "common/duration.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "exec/stop_signal.hpp"
#include "store/run_lock.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// One sweep of the group: what its trials' payloads and its closing line need (in a deque: a
// Planned does not move without the chance of an exception, so a vector would copy it).
struct GroupMember {
    std::string file;
    SweepArms arms;
    std::string scope = {}; // data_scope(): its payloads' data scope
    Planned plan = {};
    int64_t total = 0;                        // trials queued
    SchedulerResult r = {};                   // its trials' outcomes so far
    SchedulerResult earlier = {};             // the outcomes of its trials a sweep before it queued (plan.earlier_runs)
    std::vector<int64_t> earlier_failed = {}; // their runs that failed, for its closing line
    std::optional<std::chrono::steady_clock::time_point> first_start = {};
    bool closed = false;
};

// The store sink, and each sweep's tally: a sweep's closing line comes as its last trial ends.
class GroupSink : public RunSink {
  public:
    // member_of: each queued run's place in `members`
    GroupSink(StoreSink& inner, Progress& progress, std::deque<GroupMember>& members, const RunOptions& o,
              std::unordered_map<int64_t, uint32_t> member_of)
        : inner_(inner), progress_(progress), members_(members), o_(o), member_of_(std::move(member_of)) {
        for (uint32_t k = 0; k < members_.size(); ++k)
            for (int64_t run : members_[k].plan.earlier_runs)
                waiting_.emplace(run, k);
    }
    void run_started(const RunStart& s) override {
        inner_.run_started(s);
        GroupMember& m = member(s.run);
        if (!m.first_start) m.first_start = std::chrono::steady_clock::now();
    }
    void metric(int64_t run, const std::string& key, int64_t step, std::optional<int64_t> task, double value) override {
        inner_.metric(run, key, step, task, value);
    }
    void attribute(int64_t run, const std::string& key, const std::string& value) override {
        inner_.attribute(run, key, value);
    }
    void artifact(int64_t run, const std::string& name, const std::string& path) override {
        inner_.artifact(run, name, path);
    }
    void run_finished(const RunEnd& e, const std::string& label) override {
        inner_.run_finished(e, label);
        GroupMember& m = member(e.run);
        m.r.count(e.status);
        if (all_ended(m)) close(m);
        auto [from, to] = waiting_.equal_range(e.run);
        for (auto it = from; it != to; ++it) { // a later sweep's trial too: its line waits for it
            GroupMember& later = members_[it->second];
            later.earlier.count(e.status);
            if (is_failure(e.status)) later.earlier_failed.push_back(e.run);
            if (all_ended(later)) close(later);
        }
    }
    bool all_ended(const GroupMember& m) const {
        return !m.closed && m.r.ended() == m.total && m.earlier.ended() == int64_t(m.plan.earlier_runs.size());
    }
    void idle() override { inner_.idle(); }
    // The sweep's closing line (report_outcome's); returns its exit status.
    int close(GroupMember& m) {
        progress_.clear_line();
        double secs = m.first_start
                          ? std::chrono::duration<double>(std::chrono::steady_clock::now() - *m.first_start).count()
                          : 0;
        int rc = report_outcome(m.arms.base(), m.r, m.total, m.plan.skipped, m.plan.sweep_id, secs, o_.common.db_flag(),
                                0, m.plan.earlier_runs.empty() ? "" : earlier_line(m));
        if (m.earlier.failed) rc = std::max(rc, 1); // as the sweep run alone would end
        m.closed = true;
        std::fflush(stdout);
        return worst_ = std::max(worst_, rc);
    }
    int worst() const { return worst_; }
    // "of the 2 run(s) for a sweep before it: 1 done, 1 failed (run 7)": its trials that ran under
    // another sweep of the command count for it too, and are not run again for it.
    static std::string earlier_line(const GroupMember& m) {
        const SchedulerResult& e = m.earlier;
        int64_t open = int64_t(m.plan.earlier_runs.size()) - e.ended();
        std::vector<int64_t> failed = m.earlier_failed;
        std::sort(failed.begin(), failed.end());
        return fmt::format("of the {} run(s) for a sweep before it: {} done, {} failed{}{}{}{}",
                           m.plan.earlier_runs.size(), e.done, e.failed,
                           failed.empty() ? "" : fmt::format(" (run {})", fmt::join(failed, ", ")),
                           e.interrupted ? fmt::format(", {} interrupted", e.interrupted) : "",
                           e.diverged ? fmt::format(", {} diverged", e.diverged) : "",
                           open > 0 ? fmt::format(", {} not ended", open) : "");
    }
    const std::unordered_map<int64_t, uint32_t>& member_of() const { return member_of_; }

  private:
    GroupMember& member(int64_t run) { return members_[member_of_.at(run)]; }
    StoreSink& inner_;
    Progress& progress_;
    std::deque<GroupMember>& members_;
    const RunOptions& o_;
    std::unordered_map<int64_t, uint32_t> member_of_;
    std::unordered_multimap<int64_t, uint32_t> waiting_; // a run -> the later sweeps that share it
    int worst_ = 0;
};

RunOptions with_sweep(const RunOptions& o, const std::string& file) {
    RunOptions one = o;
    one.sweep = file;
    return one;
}

// Each sweep as run_several read it (and checked its size), with the notes `iclr run FILE` prints.
std::deque<GroupMember> members_of(const RunOptions& o, const std::vector<std::string>& files,
                                   std::vector<SweepArms> arms) {
    std::deque<GroupMember> members;
    for (size_t i = 0; i < files.size(); ++i) {
        GroupMember& m = members.emplace_back(GroupMember{files[i], std::move(arms[i])});
        m.scope = data_scope(with_sweep(o, files[i]));
        warn_stale_plugins(m.arms, "the trials will run it");
        note_unstated_differences(m.arms);
        note_unread_pretrain(m.arms);
    }
    return members;
}

// The group's queue: every sweep recorded and planned in turn (a trial two of them share runs for the
// first), their trials one sweep after the other (`member_of` says whose each is), and their headers
// once the parallelism is chosen for them all.
struct GroupQueue {
    std::deque<QueuedTrial> trials;
    std::unordered_map<int64_t, uint32_t> member_of;
    std::vector<std::unordered_map<int64_t, float>> costs; // each sweep's, for the ETA (they compare within it)
};
GroupQueue plan_members(const RunOptions& o, Store& store, std::deque<GroupMember>& members, Parallelism& p,
                        const ResultsLayout& layout) {
    GroupQueue queue;
    std::set<int64_t> queued_by;
    for (uint32_t k = 0; k < members.size(); ++k) {
        GroupMember& m = members[k];
        m.plan = plan_runs(store, m.arms, with_sweep(o, m.file), {}, queued_by);
        queued_by.insert(m.plan.sweep_id);
        m.total = int64_t(m.plan.queue.size());
        for (QueuedTrial& q : m.plan.queue) {
            q.timeout_s = float(m.arms.base().timeout_s); // the pool has none: each trial has its sweep's
            queue.member_of[q.run_id] = k;
            queue.trials.push_back(q);
        }
        queue.costs.push_back(cost_by_run(m.plan.queue));
        std::deque<QueuedTrial>().swap(m.plan.queue); // held once, in the group's queue
    }
    p = choose_parallelism(o, members.front().arms.base(), queue.trials);
    for (const GroupMember& m : members) {
        const Planned& plan = m.plan;
        fmt::print("sweep {} (#{}): {} trials, {} already done{}, {} to run; {} job(s) x {} thread(s); db {}\n",
                   m.arms.base().name, plan.sweep_id, m.total + plan.skipped + plan.busy, plan.skipped,
                   plan.busy ? fmt::format(", {} run for a sweep before it", plan.busy) : "", m.total, p.jobs,
                   p.threads, o.common.db_path());
        if (plan.duplicates)
            fmt::print("note: {} trial(s) repeat an identical configuration and run once\n", plan.duplicates);
        warn_changed_builds(plan, o.rerun_changed, layout.cache_dir());
    }
    auto with_trials = std::count_if(members.begin(), members.end(), [](const auto& m) { return m.total > 0; });
    if (with_trials > 1)
        fmt::print("one queue for the {} sweeps, {} trial(s): each sweep's last trials run beside the next one's "
                   "first\n",
                   with_trials, queue.trials.size());
    std::fflush(stdout);
    return queue;
}

// The options of the group's pool run: each trial's payload as its own sweep's run would send it
// (its thread count, memory limit, data scope), its label led by its sweep's name.
SchedulerOptions group_options(const RunOptions& o, const std::deque<GroupMember>& members, const Parallelism& p,
                               const ResultsLayout& layout, const std::unordered_map<int64_t, uint32_t>& member_of) {
    std::string data_dir = absolute_path(o.common.data_dir());
    SchedulerOptions so{p.jobs,
                        p.threads,
                        0, // each trial's own (QueuedTrial::timeout_s)
                        members.front().arms.base().memory_mb,
                        layout,
                        [&members, &member_of, p, layout, data_dir](const QueuedTrial& q) {
                            const GroupMember& m = members[member_of.at(q.run_id)];
                            const SweepArms& arms = m.arms;
                            TrialPoint point = arms.expansions[q.arm]->at(q.index);
                            ResolvedTrial t = resolve_trial(arms.specs[q.arm], arms.plugins[q.arm], point);
                            std::string text =
                                payload(t, q.run_id, q.threads > 0 ? q.threads : p.threads, arms.base().memory_mb,
                                        arms.base().on_nonfinite, data_dir, layout);
                            return TrialText{with_data_scope(m.scope, std::move(text)),
                                             arms.base().name + ": " + arms.describe(q.arm, point)};
                        },
                        "",
                        p.gpus};
    return so;
}

} // namespace

std::string pool_key(const RunOptions& o, const SweepSpec& spec) {
    if (o.launcher != "local" || max_failures_of(o, spec) > 0) return "";
    int per_gpu = o.trials_per_gpu > 0 ? o.trials_per_gpu : spec.trials_per_gpu;
    return fmt::format("jobs={} threads={} gpus={}x{} memory_mb={}", requested_jobs(o, spec), o.threads,
                       fmt::join(sweep_gpus(o, spec), ","), per_gpu, spec.memory_mb);
}

GroupOutcome run_group(const RunOptions& o, const std::vector<std::string>& files, std::vector<SweepArms> arms,
                       Handover& handover) {
    std::deque<GroupMember> members = members_of(o, files, std::move(arms));
    std::string db_path = o.common.db_path();
    RunLock lock(db_path, fmt::format("{} and {} more", members.front().arms.base().name, members.size() - 1));
    ResultsLayout layout(db_path); // after the lock made the file: the layout follows its real path
    install_stop_handlers();
    auto store = open_store_for_run(db_path);
    Parallelism p;
    GroupQueue queue = plan_members(o, *store, members, p, layout);

    Progress progress(int64_t(queue.trials.size()), isatty(STDOUT_FILENO), std::move(queue.costs));
    StoreSink sink(*store, progress, layout.cache_dir());
    GroupSink group(sink, progress, members, o, std::move(queue.member_of));
    for (GroupMember& m : members)
        if (group.all_ended(m)) group.close(m); // none to run, none shared
    SchedulerOptions so = group_options(o, members, p, layout, group.member_of());
    so.keep_workers = handover.keep;
    SchedulerResult r = run_recorded(reuse_or_start(handover.pool, so, group), std::move(queue.trials), sink, progress);
    GroupOutcome out;
    for (GroupMember& m : members) {
        if (!m.closed && !m.first_start && m.total > 0)
            out.not_started.push_back(m.file);
        else if (!m.closed)
            group.close(m);                                                   // stopped: its counts, "N not started"
        if (m.r.failed || m.earlier.failed) out.incomplete.push_back(m.file); // as a sweep run alone exits 1
    }
    out.rc = group.worst();
    if (r.stop_signal) {
        fmt::print("stopped by {}; run the same command again to finish the remaining trials\n",
                   signal_name(r.stop_signal));
        out.rc = 128 + r.stop_signal;
    }
    keep_cache_limit(layout.cache_dir());
    return out;
}

} // namespace iclr
