// `iclr plan SWEEP`: parse, validate, count and construct each plugin configuration; trains nothing.
#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli/commands.hpp"
#include "cli/constructor_check.hpp"
#include "cli/plugin_provenance.hpp"
#include "cli/query_check.hpp"
#include "cli/run_plan.hpp"
#include "cli/several.hpp"
#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "common/values.hpp"
#include "store/sqlite_util.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/trial.hpp"

namespace iclr {
namespace {

void print_axes(const SweepSpec& spec) {
    fmt::print("axes:\n");
    for (const auto& a : spec.axes) {
        std::string what;
        if (a.random())
            what = fmt::format("{} ({} draws)", a.directive, spec.samples);
        else {
            what = fmt::format("{} values", a.size());
            if (a.size() <= 8) {
                what += ":";
                for (size_t k = 0; k < a.size(); ++k)
                    what += " " + value_to_toml(a.value(k));
            }
        }
        fmt::print("  {:<24} {}{}\n", a.label, what, a.zip.empty() ? "" : " [zip " + a.zip + "]");
    }
    fmt::print("  {:<24} {}\n", "seed", spec.seeds.size());
}

struct Counted {
    uint64_t count = 0;
    TrialPoint first, last;
};

// Trials left after exclusions (decoded lazily: a million-point grid counts in milliseconds).
Counted count_trials(const SweepSpec& spec, const Expansion& ex) {
    Counted c;
    if (spec.excludes.empty()) {
        c.count = ex.raw_count();
        if (c.count) {
            c.first = ex.at(0);
            c.last = ex.at(c.count - 1);
        }
        return c;
    }
    ex.for_each([&](const TrialPoint& p) {
        if (c.count == 0) c.first = p;
        c.last = p;
        ++c.count;
        return true;
    });
    return c;
}

// One arm (or the whole sweep when it has none): plugins, axes, count, first and last trial.
uint64_t print_arm(const SweepArms& arms, uint32_t k) {
    const SweepSpec& spec = arms.specs[k];
    const auto& plugins = arms.plugins[k];
    const Expansion& ex = *arms.expansions[k];
    if (arms.has_arms()) fmt::print("\narm {}\n", spec.arm_label());
    size_t width = 18; // "metric.accuracy_matrix" and the like widen the column
    for (const auto& section : spec.sections)
        width = std::max(width, section.label.size());
    for (size_t s = 0; s < spec.sections.size(); ++s)
        fmt::print("  {:<{}} {} {}\n", spec.sections[s].label, width, plugins[s]->name, plugins[s]->version);
    print_axes(spec);
    Counted c = count_trials(spec, ex);
    fmt::print("trials: {}", c.count);
    if (c.count != ex.raw_count()) fmt::print(" ({} excluded of {})", ex.raw_count() - c.count, ex.raw_count());
    fmt::print("\n");
    if (c.count > 0) {
        fmt::print("first:  {}\n", arms.describe(k, c.first));
        fmt::print("last:   {}\n", arms.describe(k, c.last));
        fmt::print("first trial key {}\n", resolve_trial(spec, plugins, c.first).key);
    }
    return c.count;
}

// What `iclr run` would find in the database as it is (read only): how many of the trials as
// written are done there. After an edit (a default, a plugin's version, the file) a sweep the
// user thinks is done can be all to run again; this says so before a run of hours starts. Up to
// kMaxCountedTrials: each key is a trial resolved and looked up.
constexpr uint64_t kMaxCountedTrials = 20'000;

void print_database_state(const SweepArms& arms, uint64_t total, const CommonOptions& c) {
    std::error_code ec;
    if (total == 0 || total > kMaxCountedTrials || !std::filesystem::exists(c.db_path(), ec)) return;
    auto store = Store::open_read(c.db_path());
    Statement st(store->db(), "SELECT status FROM runs WHERE key = ?1");
    auto trials = arms.trial_keys();
    int64_t finished = 0, other = 0;
    for (const auto& trial : trials) {
        st.bind(1, trial.key);
        if (st.step()) {
            std::string status = st.col_text(0);
            (status == "done" || status == "diverged" ? finished : other) += 1;
        }
        st.reset();
    }
    int64_t absent = int64_t(trials.size()) - finished - other;
    std::string rest = (other ? fmt::format(", {} failed or unfinished", other) : "") +
                       (absent ? fmt::format(", {} not in it", absent) : "");
    fmt::print("database {}: {} of the {} trial(s) done{}; `iclr run` would run {}\n", c.db_path(), finished,
               trials.size(), rest, other + absent == 0 ? "none" : std::to_string(other + absent));
}

// A sweep's pool as `iclr run A B` groups them (pool_key, "" = runs alone) and in words.
struct PlannedPool {
    std::string name, key, words;
};
PlannedPool planned_pool(const SweepSpec& spec, const SweepVariant& variant) {
    RunOptions o;
    o.variant = variant;
    if (int64_t budget = max_failures_of(o, spec)) return {spec.name, "", fmt::format("max_failures = {}", budget)};
    std::vector<std::string> gpus = sweep_gpus(o, spec);
    return {spec.name, pool_key(o, spec),
            fmt::format("jobs {}{}{}", spec.jobs ? std::to_string(spec.jobs) : "auto",
                        gpus.empty() ? "" : fmt::format(", GPUs {}", fmt::join(gpus, ",")),
                        spec.memory_mb > 0 ? fmt::format(", memory_mb {}", spec.memory_mb) : "")};
}

// What `iclr run` of the same files does with them (run_several): consecutive sweeps whose pools
// would be alike run as one queue, the others alone, in the files' order.
void print_run_queues(const std::vector<PlannedPool>& pools) {
    std::vector<std::string> lines;
    for (size_t i = 0, end = 1; i < pools.size(); i = end, end = i + 1) {
        while (end < pools.size() && !pools[i].key.empty() && pools[end].key == pools[i].key)
            ++end;
        std::vector<std::string> names;
        for (size_t k = i; k < end; ++k)
            names.push_back(pools[k].name);
        lines.push_back(end - i > 1 ? fmt::format("  one queue ({}): {}", pools[i].words, fmt::join(names, ", "))
                                    : fmt::format("  alone ({}): {}", pools[i].words, names.front()));
    }
    fmt::print("`iclr run` of these files runs {}:\n{}\n",
               lines.size() == 1 ? "them as one queue"
                                 : fmt::format("{} queues in turn (with --jobs N, one)", lines.size()),
               fmt::join(lines, "\n"));
}

// One sweep's plan; `checker`, given, keeps the constructor check's worker for the next sweep's;
// `pool`, given, is told the sweep's pool.
int plan_sweep(const std::string& file, const SweepVariant& variant, bool construct, const CommonOptions& c,
               std::unique_ptr<Scheduler>* checker, std::vector<PlannedPool>* pools = nullptr) {
    PluginRegistry reg;
    reg.discover();
    SweepArms arms = load_sweep(file, variant, reg);
    const SweepSpec& spec = arms.base();
    check_queries(spec);
    fmt::print("sweep {}{}{}\n", spec.name, variant.arguments().empty() ? "" : " (" + variant.arguments() + ")",
               spec.description.empty() ? "" : ": " + spec.description);
    uint64_t total = 0;
    std::string per_arm;
    for (uint32_t k = 0; k < arms.specs.size(); ++k) {
        uint64_t n = print_arm(arms, k);
        total += n;
        per_arm += (per_arm.empty() ? "" : ", ") + arms.specs[k].arm_label() + " " + std::to_string(n);
    }
    if (arms.has_arms()) fmt::print("\narms: {} ({}); trials in all: {}\n", arms.specs.size(), per_arm, total);
    if (!spec.claims.empty())
        fmt::print("claims: {} ([[claim]]; `iclr verify {}{}` computes their verdicts)\n", spec.claims.size(),
                   shell_word(file), variant.flags());
    warn_stale_plugins(arms, "`iclr run` would run it");
    note_unstated_differences(arms);
    note_unread_pretrain(arms);
    if (construct) {
        ConstructorCheck checked = check_constructors(arms, {c.data_dir(), ResultsLayout(c.db_path())}, checker);
        fmt::print("constructors: {} plugin configuration(s) built in a worker and accepted{} ({})\n",
                   checked.configurations,
                   checked.capped
                       ? fmt::format(" (the first {}; the rest are left to their trials)", kMaxCheckedConfigurations)
                       : "",
                   format_duration(checked.seconds));
    } else {
        fmt::print("constructors: not built (--no-construct)\n");
    }
    // plan loads no data set (`iclr run` does, in its check): a missing data folder, the first thing a
    // new machine lacks, is still worth a line here.
    bool reads_data = false;
    for (const auto& spec_k : arms.specs)
        for (const auto& section : spec_k.sections)
            reads_data = reads_data || section.reads_data();
    if (std::error_code ec; reads_data && !std::filesystem::is_directory(c.data_dir(), ec))
        fmt::print("note: the data folder {} does not exist (`make data`, or set ICLR_DATA; `iclr run --data DIR`)\n",
                   c.data_dir());
    try {
        print_database_state(arms, total, c);
    } catch (const std::exception& e) { // a line of information: a database it cannot read fails no plan
        fmt::print("database {}: not read ({})\n", c.db_path(), e.what());
    }
    fmt::print("jobs: {}  timeout: {}  valid: yes\n", spec.jobs ? std::to_string(spec.jobs) : "auto",
               spec.timeout_s > 0 ? std::to_string(int(spec.timeout_s)) + "s" : "none");
    if (pools) pools->push_back(planned_pool(spec, variant));
    return 0;
}

} // namespace

int cmd_plan(const std::string& file, const SweepVariant& variant, bool construct, const CommonOptions& c) {
    return plan_sweep(file, variant, construct, c, nullptr);
}

// Several files: each planned in turn (an invalid one says why, file:line:col, and the others go
// on), then how many are valid; exit 2 if one is not. `iclr plan sweeps/*.toml` checks a deck, the
// constructors of every sweep in one worker (libtorch loads once).
int cmd_plan_several(const std::vector<std::string>& files, const SweepVariant& variant, bool construct,
                     const CommonOptions& c) {
    std::vector<std::string> invalid;
    std::unique_ptr<Scheduler> checker;
    std::vector<PlannedPool> pools;
    each_sweep(
        files, [&](const std::string& file) { return plan_sweep(file, variant, construct, c, &checker, &pools); },
        &invalid);
    fmt::print("\n{} of the {} sweep file(s) valid{}\n", files.size() - invalid.size(), files.size(),
               invalid.empty() ? "" : "; not:" + shell_words(invalid));
    if (!invalid.empty()) return 2; // `iclr run` of them would run none
    print_run_queues(pools);
    return 0;
}

} // namespace iclr
