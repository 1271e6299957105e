// `iclr plugins [NAME]`: what was discovered (from the manifest cache when nothing changed).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "plugin/plugin_registry.hpp"

namespace iclr {

namespace {

// Every discovered library, one row each, with what is wrong with the broken and stale ones.
void print_list(const PluginRegistry& reg) {
    ResultSet rs;
    rs.columns = {"kind", "name", "version", "file", "status"};
    for (const auto& r : reg.records()) {
        std::string status = !r.ok     ? "broken: " + r.error
                             : r.stale ? "stale: rebuild (" + r.source_dir + " is newer)"
                                       : "ok";
        rs.rows.push_back({r.ok || !r.name.empty() ? kind_name(r.kind) : "?", r.name.empty() ? "?" : r.name, r.version,
                           r.file, status});
    }
    fmt::print("{}", render(rs, Format::Table));
    if (reg.records().empty()) {
        fmt::print("no plugins found; searched:\n");
        for (const auto& d : PluginRegistry::default_search_path())
            fmt::print("  {}\n", d.string());
    }
}

// The parameters a plugin declares, as a table: type, default, range or choices, help.
void print_params(const PluginRecord& r) {
    ResultSet rs;
    rs.columns = {"parameter", "type", "default", "range", "help"};
    for (const auto& p : r.params) {
        std::string range;
        if (p.has_range()) range = fmt::format("[{}, {}]", p.min, p.max);
        for (size_t k = 0; k < p.choices.size(); ++k)
            range += (k ? "|" : "") + p.choices[k];
        rs.rows.push_back({p.name, param_type_name(p.type), p.default_toml, range, p.help});
    }
    fmt::print("\n{}", render(rs, Format::Table));
}

void print_details(const PluginRecord& r) {
    fmt::print("{} {}{}\n", r.id(), r.version,
               !r.ok     ? " (broken: " + r.error + ")"
               : r.stale ? " (stale: its sources are newer; rebuild)"
                         : "");
    if (!r.source_dir.empty()) fmt::print("  source:   {}\n", r.source_dir);
    fmt::print("  file:     {}\n  sha256:   {}\n", r.file, r.sha256);
    if (!r.summary.empty()) fmt::print("  summary:  {}\n", r.summary);
    if (!r.citation.empty()) fmt::print("  citation: {}\n", r.citation);
    if (r.ok)
        fmt::print("  built:    {}, libtorch {}, cxx11 abi {}, plugin ABI {}.{}\n", r.compiler, r.torch_version,
                   r.cxx11_abi, r.abi_major, r.abi_minor);
    if (r.ok && r.kind == ICLR_KIND_METHOD) // what its trials' keys hold of a sweep's [pretrain]
        fmt::print("  pretrain: {}\n", r.reads_pretrain ? "reads the sweep's [pretrain] (its trials list it)"
                                                        : "does not read [pretrain] (its trials leave it out)");
    if (!r.params.empty()) print_params(r);
}

} // namespace

int cmd_plugins(const std::string& which) {
    PluginRegistry reg;
    reg.discover();
    if (which.empty()) {
        print_list(reg);
        return 0;
    }
    auto found = reg.lookup(which);
    if (found.empty())
        throw UserError("no plugin '" + which + "' (try `iclr plugins` for the list" + reg.where_searched() + ")");
    if (found.size() > 1 && which.find('/') == std::string::npos) {
        std::string ids;
        for (auto* r : found)
            ids += " " + r->id();
        throw UserError("'" + which + "' is ambiguous:" + ids);
    }
    for (const PluginRecord* r : found)
        print_details(*r);
    return 0;
}

} // namespace iclr
