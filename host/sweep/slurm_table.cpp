// [sweep.slurm]: one handler per key, like [sweep]; `iclr run` flags override each key.
#include <map>

#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

using SlurmKeyHandler = void (*)(ParseContext&, const toml::node&, SlurmSettings&);

void text(ParseContext& ctx, const toml::node& v, std::string& into, const char* key) {
    if (auto s = v.as_string())
        into = s->get();
    else
        ctx.err(v, std::string("sweep.slurm.") + key + " must be a string");
}

void count(ParseContext& ctx, const toml::node& v, int& into, const char* key, int lo, int hi) {
    auto n = v.as_integer();
    if (!n || n->get() < lo || n->get() > hi)
        ctx.err(v, std::string("sweep.slurm.") + key + " must be an integer from " + std::to_string(lo) + " to " +
                       std::to_string(hi));
    else
        into = int(n->get());
}

const std::map<std::string, SlurmKeyHandler>& slurm_key_handlers() {
    static const std::map<std::string, SlurmKeyHandler> h{
        {"partition",
         [](ParseContext& c, const toml::node& v, SlurmSettings& s) { text(c, v, s.partition, "partition"); }},
        {"time", [](ParseContext& c, const toml::node& v, SlurmSettings& s) { text(c, v, s.time, "time"); }},
        {"gres", [](ParseContext& c, const toml::node& v, SlurmSettings& s) { text(c, v, s.gres, "gres"); }},
        {"max_parallel", [](ParseContext& c, const toml::node& v,
                            SlurmSettings& s) { count(c, v, s.max_parallel, "max_parallel", 0, 100000); }},
        {"trials_per_task", [](ParseContext& c, const toml::node& v,
                               SlurmSettings& s) { count(c, v, s.trials_per_task, "trials_per_task", 1, 1000000); }},
        {"cpus_per_task", [](ParseContext& c, const toml::node& v,
                             SlurmSettings& s) { count(c, v, s.cpus_per_task, "cpus_per_task", 1, 1024); }},
        {"signal_grace_s", [](ParseContext& c, const toml::node& v,
                              SlurmSettings& s) { count(c, v, s.signal_grace_s, "signal_grace_s", 1, 65535); }},
        {"sbatch_args", [](ParseContext& c, const toml::node& v, SlurmSettings& s) {
             const toml::array* arr = v.as_array();
             if (!arr) return c.err(v, "sweep.slurm.sbatch_args must be a list of strings, e.g. [\"--qos=short\"]");
             for (const auto& e : *arr)
                 if (auto str = e.as_string())
                     s.sbatch_args.push_back(str->get());
                 else
                     c.err(e, "sweep.slurm.sbatch_args must be a list of strings");
         }}};
    return h;
}

} // namespace

void parse_slurm_table(ParseContext& ctx, const toml::node& node, SlurmSettings& into) {
    const toml::table* t = node.as_table();
    if (!t) return ctx.err(node, "[sweep.slurm] must be a table");
    for (auto&& [k, v] : *t) {
        auto it = slurm_key_handlers().find(std::string(k.str()));
        if (it != slurm_key_handlers().end())
            it->second(ctx, v, into);
        else
            ctx.err(v, "unknown key sweep.slurm." + std::string(k.str()) +
                           " (known: partition, time, max_parallel, trials_per_task, cpus_per_task, gres, "
                           "signal_grace_s, sbatch_args)");
    }
}

} // namespace iclr
