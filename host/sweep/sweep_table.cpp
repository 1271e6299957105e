// The [sweep] table: one handler per key, looked up in a table (unknown keys listed with the known).
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "common/duration.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

using Handler = void (*)(ParseContext&, const toml::node&, SweepSpec&, SweepExtras&);

std::optional<int64_t> get_int(ParseContext& ctx, const toml::node& n, const std::string& what) {
    if (auto v = n.as_integer()) return v->get();
    ctx.err(n, what + " must be an integer");
    return std::nullopt;
}

void text_key(ParseContext& ctx, const toml::node& v, std::string& into, const std::string& key) {
    if (!v.is_string())
        ctx.err(v, "sweep." + key + " must be a string");
    else
        into = v.as_string()->get();
}

void seed_list(ParseContext& ctx, const toml::array& arr, const toml::node& v, SweepSpec& spec) {
    std::vector<int64_t> seeds;
    std::set<int64_t> seen;
    for (const auto& e : arr) {
        if (!e.is_integer()) {
            ctx.err(e, "seeds must be integers");
            continue;
        }
        if (!seen.insert(e.as_integer()->get()).second) ctx.err(e, "seed listed twice");
        seeds.push_back(e.as_integer()->get());
    }
    if (seeds.empty())
        ctx.err(v, "seeds is an empty list");
    else
        spec.seeds = seeds;
}

void seeds(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    if (auto n = v.as_integer()) {
        if (n->get() < 1 || n->get() > 100000) return ctx.err(v, "seeds must be between 1 and 100000");
        spec.seeds.clear();
        for (int64_t s = 0; s < n->get(); ++s)
            spec.seeds.push_back(s);
    } else if (auto arr = v.as_array()) {
        seed_list(ctx, *arr, v, spec);
    } else {
        ctx.err(v, "seeds must be a count (3) or a list of seeds ([0, 1, 2])");
    }
}

void jobs(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    if (auto s = v.as_string(); s && s->get() == "auto") {
        spec.jobs = 0;
    } else if (s) {
        ctx.err(v, "sweep.jobs must be an integer or \"auto\"");
    } else if (auto n = get_int(ctx, v, "sweep.jobs")) {
        if (*n < 1 || *n > 256)
            ctx.err(v, "jobs must be between 1 and 256, or \"auto\"");
        else
            spec.jobs = int(*n);
    }
}

void timeout(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    double secs = -1;
    if (v.is_number()) {
        secs = v.is_integer() ? double(v.as_integer()->get()) : v.as_floating_point()->get();
    } else if (auto s = v.as_string()) {
        secs = parse_duration(s->get()).value_or(-1);
    }
    if (secs < 0 || !std::isfinite(secs))
        ctx.err(v, "timeout must be seconds (600) or a duration (\"90s\", \"10m\", \"2h\")");
    else
        spec.timeout_s = secs;
}

// An integer key that is 0 or more (0: none / no limit, as `what` says).
void non_negative(ParseContext& ctx, const toml::node& v, const std::string& key, int64_t& into,
                  const std::string& what) {
    if (auto n = get_int(ctx, v, "sweep." + key)) {
        if (*n < 0)
            ctx.err(v, key + " must be >= 0" + what);
        else
            into = *n;
    }
}

void memory_mb(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    non_negative(ctx, v, "memory_mb", spec.memory_mb, "");
}

void samples(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    if (auto n = get_int(ctx, v, "sweep.samples")) {
        if (*n < 1 || *n > 100'000'000)
            ctx.err(v, "samples must be between 1 and 100000000");
        else
            spec.samples = *n;
    }
}

void sweep_seed(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    if (auto n = get_int(ctx, v, "sweep.sweep_seed")) spec.sweep_seed = uint64_t(*n);
}

void on_nonfinite(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    auto s = v.as_string();
    if (!s || (s->get() != "stop" && s->get() != "record"))
        ctx.err(v, "on_nonfinite must be \"stop\" (a NaN or infinite loss ends the trial as diverged) or "
                   "\"record\" (record it and go on)");
    else
        spec.on_nonfinite = s->get();
}

void gpus(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    if (auto s = v.as_string(); s && (s->get() == "all" || s->get() == "none")) {
        spec.gpus = s->get();
        return;
    }
    const toml::array* arr = v.as_array();
    std::string ids;
    for (size_t k = 0; arr && k < arr->size(); ++k) {
        auto n = (*arr)[k].as_integer();
        if (!n || n->get() < 0) return ctx.err((*arr)[k], "sweep.gpus must list GPU ids (integers >= 0)");
        ids += (k ? "," : "") + std::to_string(n->get());
    }
    if (!arr || ids.empty()) return ctx.err(v, "sweep.gpus must be a list of GPU ids ([0, 1]), \"all\" or \"none\"");
    spec.gpus = ids;
}

void trials_per_gpu(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    if (auto n = get_int(ctx, v, "sweep.trials_per_gpu")) {
        if (*n < 1 || *n > 256)
            ctx.err(v, "trials_per_gpu must be between 1 and 256");
        else
            spec.trials_per_gpu = int(*n);
    }
}

void max_failures(ParseContext& ctx, const toml::node& v, SweepSpec& spec, SweepExtras&) {
    non_negative(ctx, v, "max_failures", spec.max_failures, " (0: no limit)");
}

void exclude(ParseContext& ctx, const toml::node& v, SweepSpec&, SweepExtras& extras) {
    if (const toml::array* arr = v.as_array())
        extras.exclude = arr; // parsed once every axis is known; the root table outlives parsing
    else
        ctx.err(v, "exclude must be a list of tables, e.g. [{ \"model.width\" = 1024 }]");
}

const std::map<std::string, Handler>& handlers() {
    static const std::map<std::string, Handler> h{
        {"name",
         [](ParseContext& c, const toml::node& v, SweepSpec& s, SweepExtras&) { text_key(c, v, s.name, "name"); }},
        {"description", [](ParseContext& c, const toml::node& v, SweepSpec& s,
                           SweepExtras&) { text_key(c, v, s.description, "description"); }},
        {"seeds", seeds},
        {"jobs", jobs},
        {"timeout", timeout},
        {"memory_mb", memory_mb},
        {"samples", samples},
        {"sweep_seed", sweep_seed},
        {"on_nonfinite", on_nonfinite},
        {"max_failures", max_failures},
        {"exclude", exclude},
        {"gpus", gpus},
        {"trials_per_gpu", trials_per_gpu},
        {"slurm",
         [](ParseContext& c, const toml::node& v, SweepSpec& s, SweepExtras&) { parse_slurm_table(c, v, s.slurm); }}};
    return h;
}

} // namespace

std::string sweep_key_hint(const std::string& key) {
    return handlers().count(key) ? " (`" + key + "` is a [sweep] key: move it there)" : "";
}

void parse_sweep_table(ParseContext& ctx, const toml::node& node, SweepSpec& spec, SweepExtras& extras) {
    const toml::table* t = node.as_table();
    if (!t) return ctx.err(node, "[sweep] must be a table");
    spec.name = std::filesystem::path(ctx.file()).stem().string();
    for (auto&& [k, v] : *t) {
        std::string key(k.str());
        auto it = handlers().find(key);
        if (it != handlers().end())
            it->second(ctx, v, spec, extras);
        else
            ctx.err(
                v,
                "unknown key sweep." + key +
                    " (known: name, description, seeds, jobs, timeout, memory_mb, samples, sweep_seed, on_nonfinite, "
                    "max_failures, exclude, gpus, trials_per_gpu, slurm)");
    }
}

} // namespace iclr
