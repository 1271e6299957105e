// Planning a sweep run: the sweep and its pending runs recorded, the worker payload of each trial.
#include "cli/run_plan.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "cli/claim_check.hpp"
#include "cli/git_state.hpp"
#include "cli/plugin_provenance.hpp"
#include "common/build_info.hpp"
#include "common/errors.hpp"
#include "common/file_hash.hpp"
#include "common/nearest_name.hpp"
#include "common/process.hpp"
#include "common/values.hpp"
#include "exec/devices.hpp"

namespace iclr {
namespace {

// Each plugin's name, version, file and SHA-256; for one built outside iclr's tree, also the git
// commit (and dirtiness) of its source folder (outside_plugin_git).
std::string plugins_json(const ResolvedTrial& t, const std::map<std::string, GitState>& plugin_git) {
    std::string s = "{";
    for (size_t k = 0; k < t.parts.size(); ++k) {
        const auto& p = t.parts[k];
        s += (k ? "," : "") + json_escape(p.section->label) + ":{\"name\":" + json_escape(p.plugin->name) +
             ",\"version\":" + json_escape(p.plugin->version) + ",\"file\":" + json_escape(p.plugin->file) +
             ",\"sha256\":" + json_escape(p.plugin->sha256);
        if (auto g = plugin_git.find(p.plugin->source_dir); g != plugin_git.end()) {
            s += ",\"git\":" + json_escape(g->second.commit);
            if (g->second.dirty >= 0) s += ",\"git_dirty\":" + std::to_string(g->second.dirty);
        }
        s += "}";
    }
    return s + "}";
}

// The trial as the store records it: plain rows.
RunRow run_row(const ResolvedTrial& t, int64_t sweep_id, const GitState& git,
               const std::map<std::string, GitState>& plugin_git, const std::string& arm) {
    RunRow row{t.key,
               sweep_id,
               t.index,
               t.seed,
               "",
               "",
               "",
               t.config_toml,
               config_json(t.config_toml),
               plugins_json(t, plugin_git),
               {},
               git.commit,
               git.dirty,
               arm};
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

// The plugins of t whose library today differs from the one that produced the stored run (the
// same version, or the trial key would differ), as "name version": compared by SHA-256, so a moved
// build is no change (a library holds no path: two checkouts build one source to the same bytes).
// `elsewhere`: one of those was loaded from another file then (another checkout's or install's).
std::vector<std::string> changed_plugins(const ResolvedTrial& t, const std::string& stored_plugins_json,
                                         bool& elsewhere) {
    std::vector<std::string> changed;
    for (const auto& p : t.parts)
        if (stored_plugins_json.find("\"sha256\":" + json_escape(p.plugin->sha256)) == std::string::npos) {
            changed.push_back(p.plugin->name + " " + p.plugin->version);
            elsewhere |= stored_plugins_json.find("\"file\":" + json_escape(p.plugin->file)) == std::string::npos;
        }
    return changed;
}

} // namespace

TrialSizes trial_sizes(const ResolvedTrial& t) {
    TrialSizes sizes;
    for (const auto& part : t.parts)
        for (const auto& [k, v] : part.params.values)
            if (v.type == Value::Type::Int && v.i > 0 && !k.ends_with("seed"))
                sizes[part.section->label + "." + k] = v.i;
    return sizes;
}

void TrialCosts::add(const TrialSizes& sizes) {
    for (const auto& [key, n] : sizes) {
        auto [it, fresh] = ids_.try_emplace(key, uint32_t(trials_with_.size()));
        if (fresh) trials_with_.push_back(0);
        ++trials_with_[it->second];
        sizes_.emplace_back(it->second, std::log1p(double(n)));
    }
    end_.push_back(sizes_.size());
}

std::vector<float> TrialCosts::costs(bool comparable) const {
    std::vector<float> costs;
    costs.reserve(end_.size());
    size_t at = 0;
    for (size_t end : end_) {
        double cost = 0;
        for (; at < end; ++at)
            if (!comparable || trials_with_[sizes_[at].first] == end_.size()) cost += sizes_[at].second;
        costs.push_back(float(cost));
    }
    return costs;
}

std::string stage_group(const ResolvedTrial& t) {
    std::string g;
    for (const auto& part : t.parts)
        if (part.section->reads_data())
            g +=
                part.section->label + " = " + section_text(part.plugin->name, part.plugin->version, part.params) + "\n";
    return g;
}

void check_run_size(const SweepArms& arms, const std::string& file) {
    if (arms.raw_count() > kMaxTrialsPerRun)
        throw UserError(
            fmt::format("{}: {} trials is more than one `iclr run` takes ({}); split the sweep or sample it", file,
                        arms.raw_count(), kMaxTrialsPerRun));
}

std::vector<size_t> run_order(const std::vector<float>& cost, const std::vector<std::string>& group) {
    std::vector<size_t> turn(cost.size()); // how many equal-cost trials of the same group come before
    std::map<std::pair<float, std::string>, size_t> seen;
    for (size_t i = 0; i < cost.size(); ++i)
        turn[i] = seen[{cost[i], group[i]}]++;
    std::vector<size_t> order(cost.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return cost[a] != cost[b] ? cost[a] > cost[b] : turn[a] < turn[b]; });
    return order;
}

std::vector<std::string> gpus_for(const std::string& requested) {
    const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
    auto visible = devices::visible(env ? std::optional<std::string>(env) : std::nullopt, devices::driver_gpu_count());
    return devices::select(visible, requested, ICLR_TORCH_HAS_CUDA);
}

std::vector<std::string> sweep_gpus(const RunOptions& o, const SweepSpec& spec) {
    return gpus_for(o.gpus.empty() ? spec.gpus : o.gpus);
}

std::string payload(const ResolvedTrial& t, int64_t run_id, int threads, int64_t memory_mb,
                    const std::string& on_nonfinite, const std::string& data_dir, const ResultsLayout& layout,
                    const std::optional<std::filesystem::path>& run_dir) {
    std::string p = "run_id = " + std::to_string(run_id) + "\nseed = " + std::to_string(t.seed) +
                    "\nthreads = " + std::to_string(threads) + "\nmemory_mb = " + std::to_string(memory_mb) +
                    "\ndevice = \"auto\"\non_nonfinite = " + str(on_nonfinite) + "\ndata_dir = " + str(data_dir) +
                    "\ncache_dir = " + str(layout.cache_dir().string()) +
                    "\nrun_dir = " + str(run_dir.value_or(layout.run_dir(run_id)).string()) + "\n";
    for (const ResolvedPart* in_order : parts_in_key_order(t.parts)) { // the metrics run in the key's order
        const ResolvedPart& part = *in_order;
        p += "\n[[part]]\nrole = " + str(part.section->role) + "\nlabel = " + str(part.section->label) +
             "\nplugin = " + str(part.plugin->name) + "\nversion = " + str(part.plugin->version) +
             "\nfile = " + str(part.plugin->file) + "\nsha256 = " + str(part.plugin->sha256) +
             "\nparams = " + inline_table(part.params) + "\n";
    }
    return p;
}

Planned plan_runs(Store& store, const SweepArms& arms, const RunOptions& o, const std::set<std::string>& busy,
                  const std::set<int64_t>& queued_by) {
    const SweepSpec& spec = arms.base();
    GitState git = git_state();
    std::map<std::string, GitState> plugin_git = outside_plugin_git(arms);
    SweepRecord rec{spec.name,         absolute_path(o.sweep),
                    o.variant.profile, // the --set overrides are in the source text
                    spec.source_text,  sha256_hex(spec.source_text), git.commit, host_name(), git.dirty};
    Planned plan;
    std::vector<QueuedTrial> queued; // in grid order, then put in run_order
    std::vector<std::string> groups;
    TrialCosts sizes;
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
                auto changed = changed_plugins(t, existing->plugins_json, plan.changed_elsewhere);
                for (const auto& c : changed)
                    ++plan.changed_builds[c];
                if (changed.empty() || !o.rerun_changed) {
                    // An arm renamed in the sweep renames its runs; another sweep's run keeps the arm
                    // that sweep gave it (its claims read runs.arm), and this sweep's see it through
                    // sweep_runs.arm (cli/claim_check.hpp).
                    if (existing->arm != arm && existing->sweep == spec.name)
                        store.set_arm(existing->id, arm);
                    else if (existing->arm != arm)
                        ++plan.other_sweeps_arms[existing->sweep];
                    if (existing->iclr_build != iclr_build()) ++plan.other_iclr_builds[existing->iclr_build];
                    ++plan.skipped;
                    return true;
                }
            }
            if (busy.count(t.key) || (existing && queued_by.count(existing->sweep_id))) {
                // queued or running in an array job submitted earlier, or queued by a sweep before this one
                ++plan.busy;
                if (existing && queued_by.count(existing->sweep_id)) plan.earlier_runs.push_back(existing->id);
                return true;
            }
            queued.push_back(
                {store.prepare_run(run_row(t, plan.sweep_id, git, plugin_git, arm), existing), p.index, k});
            groups.push_back(stage_group(t));
            sizes.add(trial_sizes(t));
            return true;
        });
    store.commit();
    std::vector<float> eta_costs = sizes.costs(true);
    for (size_t i = 0; i < queued.size(); ++i)
        queued[i].cost = eta_costs[i];
    for (size_t i : run_order(sizes.costs(false), groups))
        plan.queue.push_back(queued[i]);
    return plan;
}

namespace {

// A resumed sweep finished by a rebuilt iclr mixes builds among its runs (verify notes that after
// the fact); said before anything runs, while the same build can still finish it.
void note_other_iclr_builds(const Planned& plan) {
    int64_t others = 0;
    for (const auto& [build, n] : plan.other_iclr_builds)
        others += n;
    if (others && !plan.queue.empty())
        fmt::print("note: {} of the {} trial(s) already done were run by another build of iclr ({}; this is {}): the "
                   "sweep's runs will mix builds, which `iclr verify` notes; finish it with that build to keep one\n",
                   others, plan.skipped, builds_in_words(plan.other_iclr_builds), iclr_build());
}

// Trials this sweep shares with another sweep that named their arms otherwise: each keeps its own
// (sweep_runs.arm for this one), which SQL reading runs.arm does not see.
void note_other_sweeps_arms(const Planned& plan) {
    for (const auto& [sweep, n] : plan.other_sweeps_arms)
        fmt::print("note: {} trial(s) already done are runs of sweep {} under its arm names; runs.arm keeps those, "
                   "and this sweep's claims, iclr table and iclr status give them this sweep's arms "
                   "(sweep_runs.arm in SQL)\n",
                   n, sweep.empty() ? "(unnamed)" : sweep);
}

} // namespace

void warn_changed_builds(const Planned& plan, bool rerun, const std::filesystem::path& cache_dir) {
    // One line for the plugins that changed in the same trials (a rebuild of the tree changes them all).
    std::map<int64_t, std::vector<std::string>> by_count;
    for (const auto& [plugin, n] : plan.changed_builds)
        by_count[n].push_back(plugin);
    const char* elsewhere =
        plan.changed_elsewhere ? ", loaded from another file then: another checkout's or install's build" : "";
    for (const auto& [n, plugins] : by_count)
        if (rerun)
            fmt::print("rerunning {} trial(s) that another build of {} produced (--rerun-changed)\n", n,
                       names_list(plugins));
        else
            fmt::print("note: {} trial(s) were run with another build of {} ({} SHA-256 differs{}): "
                       "--rerun-changed reruns them; bump a plugin's version to keep both\n",
                       n, names_list(plugins), plugins.size() == 1 ? "its library's" : "each library's", elsewhere);
    note_other_iclr_builds(plan);
    note_other_sweeps_arms(plan);
    // A cached stage's key names the builds of the model and data set plugins it used, but not the
    // method's: different method plugins share one pretraining (finetune, linear_probe, lp_ft), so
    // its code is versioned by the key's own name instead, and a rebuilt method reads the old stage.
    if (rerun && !plan.changed_builds.empty())
        fmt::print("note: cached stages (pretrained backbones and the like, in {}) are keyed by the builds of the "
                   "model and data set plugins they used, not the method's: a rebuilt method's reruns reuse what "
                   "its older build cached; delete that folder first to recompute them with this build\n",
                   cache_dir.string());
}

} // namespace iclr
