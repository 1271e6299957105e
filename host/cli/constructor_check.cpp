// Constructing each distinct plugin configuration of a sweep once, before it runs.
#include "cli/constructor_check.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <unordered_map>

#include <fmt/core.h>

#include "cli/cache_growth.hpp"
#include "cli/run_plan.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/values.hpp"
#include "exec/scheduler.hpp"
#include "sweep/trial.hpp"

namespace iclr {
namespace {

// Long for a constructor (they take microseconds here), short beside a sweep: one that hangs is
// reported as hanging instead of holding the sweep back.
constexpr double kCheckTimeout_s = 60;
// Loading a data set is part of a trial, under the sweep's timeout when it has one; without, a
// load still taking this long is reported as hanging.
constexpr double kLoadTimeout_s = 600;

// One configuration to construct, and where the sweep uses it.
struct Config {
    ResolvedTrial trial;           // the first trial that uses it, cut down to this part
    std::string with;              // the section's axis values in that trial: "method.heads=3"
    uint64_t trials = 0;           // how many trials use it, in every arm
    std::vector<std::string> arms; // the arms that use it
};

// The values a trial gives the axes of one section: the same text is the same configuration of it.
std::string section_axes(const SweepSpec& spec, size_t section, const TrialPoint& p) {
    std::string s;
    for (size_t a = 0; a < spec.axes.size(); ++a)
        if (size_t(spec.axes[a].section) == section)
            s += (s.empty() ? "" : ", ") + spec.axes[a].label + "=" + value_to_toml(p.axis_values[a]);
    return s;
}

// Every distinct configuration of every section, over every arm's trials (exclusions left out).
class Configs {
  public:
    explicit Configs(const SweepArms& arms) {
        std::vector<Seen> seen;
        std::vector<Section> lazy;
        for (uint32_t k = 0; k < arms.specs.size(); ++k) {
            seen.emplace_back(arms.specs[k].sections.size());
            if (arms.specs[k].excludes.empty())
                for (size_t s = 0; s < arms.specs[k].sections.size(); ++s)
                    lazy.push_back(section(arms, k, s));
            else
                arms.expansions[k]->for_each([&](const TrialPoint& p) {
                    std::optional<ResolvedTrial> t;
                    for (size_t s = 0; s < seen[k].size(); ++s)
                        note(arms, k, s, p, 1, seen[k], t);
                    return true;
                });
        }
        // Sections with few configurations first: when a swept float fills the list, the sections
        // beside it are still checked whole.
        std::stable_sort(lazy.begin(), lazy.end(),
                         [](const Section& a, const Section& b) { return a.combos < b.combos; });
        for (const Section& sec : lazy)
            add_section(arms, sec, seen[sec.arm]);
    }
    std::vector<Config> list;
    bool capped = false; // more than kMaxCheckedConfigurations: the rest were not collected

  private:
    using Seen = std::vector<std::unordered_map<std::string, size_t>>; // by section: axes text -> list

    // A section of an arm without exclusions, whose configurations need not come from visiting
    // every trial (a million-point grid's are collected in milliseconds): each combination of its
    // own grid dimensions, and of the random draws when it has random axes, is one trial's, every
    // other dimension and the seed at their first value, and stands for raw_count / combos trials.
    struct Section {
        uint32_t arm = 0;
        size_t s = 0;
        std::vector<size_t> dims;
        bool random = false;
        uint64_t combos = 1;
    };
    static Section section(const SweepArms& arms, uint32_t k, size_t s) {
        const SweepSpec& spec = arms.specs[k];
        const Expansion& ex = *arms.expansions[k];
        Section sec{k, s, {}, false, 1};
        for (size_t a = 0; a < spec.axes.size(); ++a)
            if (size_t(spec.axes[a].section) == s) {
                auto d = size_t(ex.axis_dim(a));
                if (spec.axes[a].random())
                    sec.random = true;
                else if (std::find(sec.dims.begin(), sec.dims.end(), d) == sec.dims.end())
                    sec.dims.push_back(d);
            }
        sec.combos = sec.random ? ex.samples() : 1;
        for (size_t d : sec.dims)
            sec.combos *= ex.dim_sizes()[d]; // at most raw_count, which fits
        return sec;
    }
    void add_section(const SweepArms& arms, const Section& sec, Seen& seen) {
        const Expansion& ex = *arms.expansions[sec.arm];
        const auto& sizes = ex.dim_sizes();
        std::vector<uint64_t> coord(sizes.size(), 0);
        for (uint64_t c = 0; c < sec.combos && !capped; ++c) {
            uint64_t rest = c, sample = sec.random ? rest % ex.samples() : 0;
            if (sec.random) rest /= ex.samples();
            for (size_t d : sec.dims) {
                coord[d] = rest % sizes[d];
                rest /= sizes[d];
            }
            uint64_t grid = 0;
            for (size_t d = 0; d < sizes.size(); ++d)
                grid = grid * sizes[d] + coord[d];
            std::optional<ResolvedTrial> t;
            TrialPoint p = ex.at((grid * ex.samples() + sample) * arms.specs[sec.arm].seeds.size());
            note(arms, sec.arm, sec.s, p, ex.raw_count() / sec.combos, seen, t);
        }
    }

    // Counts `trials` more for the configuration trial p gives section s, added to the list when
    // new (t: p resolved, once, by the first section that needs it).
    void note(const SweepArms& arms, uint32_t k, size_t s, const TrialPoint& p, uint64_t trials, Seen& seen,
              std::optional<ResolvedTrial>& t) {
        const SweepSpec& spec = arms.specs[k];
        std::string axes = section_axes(spec, s, p);
        auto it = seen[s].find(axes);
        if (it == seen[s].end()) {
            if (list.size() >= kMaxCheckedConfigurations) {
                capped = true;
                return;
            }
            if (!t) t = resolve_trial(spec, arms.plugins[k], p);
            const ResolvedPart* part = part_of(*t, spec.sections[s]);
            if (!part) return; // [pretrain] of a method that does not read it: its trials leave it out
            it = seen[s].emplace(axes, add(*t, *part, spec.arm_label(), axes)).first;
        }
        list[it->second].trials += trials;
    }

    static const ResolvedPart* part_of(const ResolvedTrial& t, const SectionSpec& section) {
        for (const ResolvedPart& part : t.parts)
            if (part.section == &section) return &part;
        return nullptr;
    }
    // The list entry for this part of t: an equal one another arm has, or a new one.
    size_t add(const ResolvedTrial& t, const ResolvedPart& part, const std::string& arm_label,
               const std::string& axes) {
        auto [it, fresh] = by_text_.try_emplace(part.section->label + "\n" +
                                                    section_text(part.plugin->name, part.plugin->version, part.params),
                                                list.size());
        if (fresh) {
            Config c{t, axes, 0, {}};
            c.trial.parts = {part};
            list.push_back(std::move(c));
        }
        auto& arms = list[it->second].arms;
        if (!arm_label.empty() && std::find(arms.begin(), arms.end(), arm_label) == arms.end())
            arms.push_back(arm_label);
        return it->second;
    }
    std::unordered_map<std::string, size_t> by_text_; // label and canonical text -> list
};

// How each check ended, by its position in the list (run id - 1). A data set the check decoded
// into the data cache is followed by a walk of the cache to its limit, as after a trial.
class Outcomes : public RunSink {
  public:
    Outcomes(size_t n, std::filesystem::path cache_dir) : ends(n), cache_growth_(std::move(cache_dir)) {}
    void run_started(const RunStart&) override {}
    void metric(int64_t, const std::string&, int64_t, std::optional<int64_t>, double) override {}
    void attribute(int64_t, const std::string& key, const std::string& value) override {
        cache_growth_.attribute(key, value);
    }
    void artifact(int64_t, const std::string&, const std::string&) override {}
    void run_finished(const RunEnd& e, const std::string&) override {
        ends[size_t(e.run - 1)] = e;
        cache_growth_.trial_finished(nullptr);
    }
    void idle() override {}
    std::vector<std::optional<RunEnd>> ends;

  private:
    CacheGrowth cache_growth_;
};

// What went wrong, in the worker's words when it said it ("method 'x' (constructor): ..."),
// else what became of the worker.
std::string failure(const Config& c, const RunEnd& e, double timeout_s, bool loaded) {
    const ResolvedPart& part = c.trial.parts.front();
    std::string who =
        part.section->role + " '" + part.plugin->name + "' (" + (loaded ? "loading" : "constructor") + "): ";
    if (e.status == RunStatus::Timeout)
        return who + "did not return within " + format_duration(timeout_s) + "; worker killed";
    return e.error.starts_with(part.section->role + " '") ? e.error : who + e.error;
}

// One line of the error: the refusals that read the same at the same place (the arms whose own
// configurations a plugin refuses for the same reason: vitgan's patch in each of its five arms; the
// grid points of a data set whose files are missing).
struct Refusal {
    SourcePos pos;
    std::string what;               // the failure
    std::vector<std::string> withs; // the section's axis values at each refused point (none: no axes)
    uint64_t trials = 0;
    std::vector<std::string> arms;

    Diagnostic diagnostic() const {
        constexpr size_t kShown = 3;
        std::string where = fmt::format("{} trial(s)", trials);
        for (size_t k = 0; k < withs.size() && k < kShown; ++k)
            where += (k ? " or " : " with ") + withs[k];
        if (withs.size() > kShown) where += fmt::format(" or {} other point(s)", withs.size() - kShown);
        if (arms.size() > 1) {
            where += " in arms ";
            for (size_t k = 0; k < arms.size(); ++k)
                where += (k ? ", " : "") + arms[k];
        }
        return {pos, (arms.size() == 1 ? "arm '" + arms.front() + "': " : "") + what + " (" + where +
                         "; found before any ran)"};
    }
};

void add_refusal(std::vector<Refusal>& out, const Config& c, std::string what) {
    const SectionSpec& section = *c.trial.parts.front().section;
    SourcePos pos = section.plugin_pos.line > 0 ? section.plugin_pos : section.pos;
    auto same = [&](const Refusal& r) { return r.pos.str() == pos.str() && r.what == what; };
    auto it = std::find_if(out.begin(), out.end(), same);
    if (it == out.end()) it = out.insert(out.end(), Refusal{pos, std::move(what), {}, 0, {}});
    it->trials += c.trials;
    if (!c.with.empty() && std::find(it->withs.begin(), it->withs.end(), c.with) == it->withs.end())
        it->withs.push_back(c.with);
    for (const auto& a : c.arms)
        if (std::find(it->arms.begin(), it->arms.end(), a) == it->arms.end()) it->arms.push_back(a);
}

} // namespace

ConstructorCheck check_constructors(const SweepArms& arms, const CheckSettings& settings,
                                    std::unique_ptr<Scheduler>* keep) {
    auto start = std::chrono::steady_clock::now();
    const SweepSpec& spec = arms.base();
    double construct_timeout = spec.timeout_s > 0 ? std::min(spec.timeout_s, kCheckTimeout_s) : kCheckTimeout_s;
    double load_timeout = spec.timeout_s > 0 ? spec.timeout_s : kLoadTimeout_s;
    int workers = int(std::clamp<uint64_t>(arms.raw_count(), 1, uint64_t(std::max(1, settings.workers))));
    SchedulerOptions so{workers, 1, construct_timeout, spec.memory_mb, settings.layout, nullptr, "", settings.gpus};
    so.construct_only = true;
    so.data_scope = settings.data_scope;
    // The workers load libtorch (0.6 s here) while the configurations are collected (a tenth of that
    // for a grid's 5,000).
    std::unique_ptr<Scheduler> pool = keep && *keep ? std::move(*keep) : Scheduler::prestarted(so);
    Configs configs(arms);
    // A constructor that asks for its run folder gets a scratch one, never a real run's.
    auto scratch = std::filesystem::temp_directory_path() / fmt::format("iclr-check-{}", getpid());
    // Two passes on the workers: the constructors under the short timeout, then the data sets to
    // load under a trial's.
    std::deque<QueuedTrial> construct, load_queue;
    std::vector<bool> load(configs.list.size());
    for (size_t i = 0; i < configs.list.size(); ++i) {
        load[i] = settings.load_data && configs.list[i].trial.parts.front().section->reads_data() &&
                  load_queue.size() < kMaxLoadedDataSets;
        (load[i] ? load_queue : construct).push_back({int64_t(i + 1), 0, 0, 0, 0});
    }
    Outcomes outcomes(configs.list.size(), settings.layout.cache_dir());
    auto describe = [&](const QueuedTrial& q) {
        auto i = size_t(q.run_id - 1);
        const Config& c = configs.list[i];
        return TrialText{std::string(load[i] ? "load_data = true\n" : "") +
                             payload(c.trial, q.run_id, 1, spec.memory_mb, spec.on_nonfinite, settings.data_dir,
                                     settings.layout, scratch / std::to_string(q.run_id)),
                         c.trial.parts.front().section->label};
    };
    so.describe = describe;
    SchedulerResult r;
    for (auto* pass : {&construct, &load_queue}) {
        if (pass->empty() || r.stop_signal) continue;
        bool last = pass == &load_queue || load_queue.empty();
        so.keep_workers = !last || keep != nullptr;
        so.timeout_s = pass == &load_queue ? load_timeout : construct_timeout;
        r = reuse_or_start(pool, so, outcomes).run(std::move(*pass));
    }
    if (keep) *keep = std::move(pool);
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    if (r.stop_signal) return {configs.list.size(), configs.capped, 0, r.stop_signal, workers};
    std::vector<Refusal> refused;
    for (size_t i = 0; i < configs.list.size(); ++i)
        if (outcomes.ends[i] && outcomes.ends[i]->status != RunStatus::Done)
            add_refusal(
                refused, configs.list[i],
                failure(configs.list[i], *outcomes.ends[i], load[i] ? load_timeout : construct_timeout, load[i]));
    std::vector<Diagnostic> diags;
    for (const auto& r : refused)
        diags.push_back(r.diagnostic());
    if (!diags.empty()) throw SweepError(std::move(diags));
    return {configs.list.size(), configs.capped,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0, workers};
}

} // namespace iclr
