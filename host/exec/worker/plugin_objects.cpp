// The worker's plugin objects and loaded data sets, and the payload's parts and run settings.
#include "exec/worker/plugin_objects.hpp"

#include <chrono>
#include <sstream>

#include <torch/torch.h>

#include "common/file_facts.hpp"
#include "common/values.hpp"
#include "exec/worker/benchmark_check.hpp"
#include "exec/worker/data_cache.hpp"
#include "exec/worker/on_device.hpp"
#include "plugin/plugin_loader.hpp"

namespace iclr::worker {

std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

bool is_data_role(const std::string& role) { return role == "dataset" || role == "pretrain"; }

void PluginObjects::construct_only(const Part& p, RunContext& ctx) {
    if (is_data_role(p.role))
        create<Dataset>(p, ctx);
    else if (p.role == "model")
        create<Model>(p, ctx);
    else if (p.role == "method")
        create<Method>(p, ctx);
    else if (p.role == "metric")
        create<Metric>(p, ctx);
    else
        throw std::runtime_error("bad check payload: unknown role '" + p.role + "'");
}

std::shared_ptr<Benchmark> PluginObjects::benchmark(const Part& p, RunContext& ctx) {
    const std::string cache_key = p.sha256.empty() ? "" : data_key(p, ctx);
    // Which cached data set the run used, by role (data_cache.dataset, data_cache.pretrain):
    // `iclr cache list` names the runs behind each entry from it.
    if (!cache_key.empty()) ctx.set_attribute("data_cache." + p.role, cache_key);
    // data_cache_hit.<role>, as cache_hit for a backbone: 0 when this trial decoded the set and
    // wrote its cache entry (which tells the host the cache grew: it keeps the limit after such a
    // trial), 1 when it is in the cache and this trial did not decode it; absent when not cached.
    auto hit = [&](bool decoded) {
        if (!cache_key.empty()) ctx.set_attribute("data_cache_hit." + p.role, decoded ? "0" : "1");
    };
    std::string key = p.file + "\n" + p.params_text;
    if (auto it = benchmarks_.find(key); it != benchmarks_.end()) {
        if (it->second.cached) hit(false);
        return placed(it->second, ctx);
    }
    auto t0 = std::chrono::steady_clock::now();
    auto decode = [&] {
        auto ds = create<Dataset>(p, ctx);
        return tagged(p.role + " '" + p.name + "'", [&] {
            Benchmark b = ds->load(ctx);
            // Checked here, once per decode: a cached copy was checked when it was written.
            if (auto problem = benchmark_problem(b); !problem.empty()) throw PluginError(problem);
            return b;
        });
    };
    CachedLoad c = p.sha256.empty() ? CachedLoad{std::make_shared<Benchmark>(decode()), "not cached: no build hash"}
                                    : load_cached(ctx.cache_dir() / "data", cache_key, decode);
    auto b = c.benchmark;
    if (c.use != CachedLoad::Use::NotCached) hit(c.use == CachedLoad::Use::Written);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ctx.info(p.role + " " + p.name + " loaded in " + std::to_string(s) + " s (" + std::to_string(b->tasks.size()) +
             " tasks; " + c.note + ")");
    if (benchmarks_.size() >= 4) benchmarks_.clear(); // bound memory: a few data sets at most
    return placed(benchmarks_[key] = {b, c.use != CachedLoad::Use::NotCached}, ctx);
}

std::string PluginObjects::data_identity(RunContext& ctx) {
    auto [it, fresh] = data_identity_.try_emplace(ctx.data_dir().string());
    if (fresh) it->second = ContentKey("data folder").add("files", folder_facts(ctx.data_dir())).hex();
    return it->second;
}

// What a decoded data set depends on: the plugin's build (its code), its parameters and the
// data folder it read (Dataset::load must not depend on anything else, the SDK says).
std::string PluginObjects::data_key(const Part& p, RunContext& ctx) {
    return ContentKey("data cache v2")
        .add("build", p.sha256)
        .add("config", p.canonical())
        .add("data", data_identity(ctx))
        .hex();
}

bool PluginObjects::reads_pretrain(const Part& p) { return iclr::reads_pretrain(*load(p)); }

const iclr_plugin_info* PluginObjects::load(const Part& p) {
    if (auto it = loaded_.find(p.file); it != loaded_.end()) return it->second;
    LoadedPlugin lp = load_plugin(p.file);
    if (!lp.record.ok) throw TaggedError(p.role + " '" + p.name + "' [" + p.file + "]: " + lp.record.error);
    loaded_[p.file] = lp.info;
    return lp.info;
}

std::shared_ptr<Benchmark> PluginObjects::placed(Held& h, RunContext& ctx) {
    if (ctx.device() == "cpu") return h.benchmark;
    if (!h.on_device) h.on_device = worker::on_device(*h.benchmark, torch::Device(ctx.device()));
    return h.on_device;
}

// The payload's [[part]] tables: each plugin of the trial with its resolved parameters.
std::vector<Part> parse_parts(const toml::table& t) {
    std::vector<Part> parts;
    const toml::array* arr = t["part"].as_array();
    if (!arr) return parts;
    for (const auto& n : *arr) {
        const toml::table& pt = *n.as_table();
        Part p;
        p.role = pt["role"].value_or(std::string());
        p.label = pt["label"].value_or(std::string());
        p.name = pt["plugin"].value_or(std::string());
        p.version = pt["version"].value_or(std::string());
        p.file = pt["file"].value_or(std::string());
        p.sha256 = pt["sha256"].value_or(std::string());
        if (const toml::table* params = pt["params"].as_table()) {
            for (auto&& [k, v] : *params)
                if (auto val = value_from_toml(v)) p.params.values[std::string(k.str())] = *val;
            std::ostringstream os;
            os << *params;
            p.params_text = os.str();
        }
        parts.push_back(std::move(p));
    }
    return parts;
}

ContextSettings context_settings(const toml::table& t) {
    ContextSettings c;
    c.run = t["run_id"].value_or(int64_t(0));
    c.seed = uint64_t(t["seed"].value_or(int64_t(0)));
    c.threads = int(t["threads"].value_or(int64_t(1)));
    c.device = t["device"].value_or(std::string("auto"));
    if (c.device == "auto") c.device = torch::cuda::is_available() ? "cuda" : "cpu";
    c.data = t["data_dir"].value_or(std::string("data"));
    c.cache = t["cache_dir"].value_or(std::string("results/cache"));
    c.run_dir = t["run_dir"].value_or(std::string("results/runs"));
    c.stop_on_nonfinite = t["on_nonfinite"].value_or(std::string("stop")) != "record";
    return c;
}

void PluginObjects::enter_scope(const std::string& scope) {
    if (scope == scope_) return;
    benchmarks_.clear();
    data_identity_.clear(); // read again: a later sweep may come hours later
    scope_ = scope;
}

} // namespace iclr::worker
