// [[arm]] tables and the plugin-axis sugar (alone or crossed: every arm on every plugin): each arm
// is the base sweep with its sections merged in, parsed from a fresh copy of the document so that
// every diagnostic keeps its exact position.
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "sweep/document.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

// The arms' names, checked: [[arm]] tables with a unique name and only section overrides.
std::vector<std::string> arm_names(ParseContext& ctx, const toml::node& node) {
    static const std::regex name_re("[A-Za-z0-9][A-Za-z0-9_.+-]*");
    std::vector<std::string> names;
    const toml::array* arr = node.as_array();
    if (!arr) {
        ctx.err(node, "arms are written as [[arm]] tables");
        return names;
    }
    for (const auto& e : *arr) {
        const toml::table* t = e.as_table();
        if (!t) {
            ctx.err(e, "arms are written as [[arm]] tables");
            continue;
        }
        std::string name;
        for (auto&& [k, v] : *t) {
            std::string key(k.str());
            if (key == "name") {
                if (!v.is_string() || !std::regex_match(v.as_string()->get(), name_re))
                    ctx.err(v, "arm.name must be a short name (letters, digits, _ . + -), e.g. \"SI\"");
                else
                    name = v.as_string()->get();
            } else if (!kArmSections.count(key)) {
                ctx.err(v, "an arm overrides dataset, pretrain, model or method; '" + key + "' is none of them");
            } else if (!v.is_table()) {
                ctx.err(v, "arm." + key + " must be a table, e.g. " + key + " = { plugin = \"name\", ... }");
            }
        }
        if (name.empty() && t->find("name") == t->end()) ctx.err(e, "an arm needs name = \"...\"");
        if (!name.empty() && std::find(names.begin(), names.end(), name) != names.end())
            ctx.err(e, "arm '" + name + "' is defined twice");
        names.push_back(name);
    }
    return names;
}

// The sweep file as each arm re-reads it.
struct Document {
    const std::string& text;
    const std::string& file;
    const SweepVariant& variant;
    const FileReader& read;
};

// A fresh copy of the document for one arm: its own root (so moved nodes keep their positions)
// and an empty spec carrying the arm's name.
std::pair<SweepSpec, toml::table> fresh_copy(const Document& d, const std::string& arm, ParseContext& ctx) {
    SweepSpec spec;
    spec.file = d.file;
    spec.variant = d.variant;
    spec.arm = arm;
    toml::table root = load_document(ctx, d.text, d.read, spec.source_text);
    apply_variant(ctx, root, d.variant, spec.source_text);
    return {std::move(spec), std::move(root)};
}

// The plugins a section names in the base or in any arm: [method.finetune] is then the table of
// parameters only arms running finetune take.
std::set<std::string> plugins_named(toml::table& root, const std::string& section) {
    std::set<std::string> names;
    if (auto* p = root[section]["plugin"].as_string()) names.insert(p->get());
    if (toml::array* arms = root["arm"].as_array())
        for (auto& arm : *arms)
            if (auto* p = arm.as_table() ? (*arm.as_table())[section]["plugin"].as_string() : nullptr)
                names.insert(p->get());
    return names;
}

// The base section with the table of its plugin `plugin` merged in and every other plugin's
// table dropped (a table of parameters, not a directive such as { grid = [...] }).
void apply_plugin_tables(toml::table& section, const std::set<std::string>& plugins, const std::string& plugin) {
    std::optional<toml::table> own;
    for (const auto& p : plugins)
        if (toml::table* sub = section[p].as_table(); sub && !sub->contains("grid") && sub->size() > 0) {
            if (p == plugin) own = std::move(*sub);
            section.erase(p);
        }
    if (own) merge_tables(section, std::move(*own));
}

// Without arms: each section with its own plugin's table merged in ([method] plugin = "finetune"
// and [method.finetune] say the same as one table).
void apply_base_plugin_tables(toml::table& root) {
    for (const auto& section : kArmSections)
        if (toml::table* base = root[section].as_table())
            if (auto* plugin = (*base)["plugin"].as_string())
                apply_plugin_tables(*base, plugins_named(root, section), plugin->get());
}

// Arm k's sections merged over the root's, each after the table of the plugin the arm runs there:
// base, then [method.PLUGIN], then the arm's own.
void apply_arm(toml::table& root, size_t k) {
    toml::table* arm = root["arm"][k].as_table();
    for (const auto& section : kArmSections) {
        toml::table* over = arm ? (*arm)[section].as_table() : nullptr;
        if (toml::table* base = root[section].as_table()) {
            auto* own = over ? (*over)["plugin"].as_string() : nullptr;
            auto* inherited = (*base)["plugin"].as_string();
            std::string plugin = own ? own->get() : inherited ? inherited->get() : "";
            apply_plugin_tables(*base, plugins_named(root, section), plugin);
        }
        if (!over) continue;
        toml::table moved = std::move(*over);
        if (toml::table* base = root[section].as_table())
            merge_tables(*base, std::move(moved));
        else
            root.insert_or_assign(section, std::move(moved));
    }
    root.erase("arm");
}

// One arm: a fresh root with arm k's sections merged over the base's.
SweepSpec parse_arm(const Document& d, size_t k, const std::string& name, ParseContext& ctx) {
    auto [spec, root] = fresh_copy(d, name, ctx);
    apply_arm(root, k);
    return parse_root(ctx, root, std::move(spec));
}

// Sugar for arms: `plugin = { grid = ["finetune", "replay"] }` in one section makes one arm per
// plugin, named after it; a subtable named after a plugin ([method.replay]) holds the parameters
// only that plugin has. Returns the section and the plugin names, or nothing.
struct PluginAxis {
    std::string section;
    std::vector<std::string> plugins;
};

std::optional<PluginAxis> plugin_axis(ParseContext& ctx, const toml::table& root) {
    std::optional<PluginAxis> axis;
    for (const auto& section : kArmSections) {
        const toml::table* grid = root[section]["plugin"].as_table();
        if (!grid) continue;
        const toml::array* names = (*grid)["grid"].as_array();
        if (!names || grid->size() != 1 || names->empty()) {
            ctx.err(*grid, section + ".plugin: a plugin axis is written plugin = { grid = [\"a\", \"b\"] }");
            continue;
        }
        if (axis) {
            ctx.err(*grid, "only one section may have a plugin axis (" + axis->section + " has one); use [[arm]]");
            continue;
        }
        PluginAxis a{section, {}};
        for (const auto& n : *names) {
            if (!n.is_string())
                ctx.err(n, section + ".plugin: plugin names are strings");
            else if (n.as_string()->get().empty())
                ctx.err(n, section + ".plugin: a plugin name in the axis is empty");
            else
                a.plugins.push_back(n.as_string()->get());
        }
        axis = a;
    }
    return axis;
}

// The section's plugin set to `name`, its own subtable merged in, the other plugins' dropped.
void apply_axis(toml::table& root, const PluginAxis& axis, const std::string& name) {
    toml::table& section = *root[axis.section].as_table();
    // The grid's own element moved in (a moved node keeps its source, a copy does not), so that
    // "unknown method plugin 'x'" points at x in the grid.
    toml::value<std::string> plugin(name);
    for (auto& n : *section["plugin"]["grid"].as_array())
        if (auto* s = n.as_string(); s && s->get() == name) {
            plugin = std::move(*s);
            break;
        }
    section.insert_or_assign("plugin", std::move(plugin));
    apply_plugin_tables(section, {axis.plugins.begin(), axis.plugins.end()}, name);
}

// The arm of plugin `name` (a sweep with a plugin axis and no [[arm]]).
SweepSpec parse_plugin_arm(const Document& d, const PluginAxis& axis, const std::string& name, ParseContext& ctx) {
    auto [spec, root] = fresh_copy(d, name, ctx);
    apply_axis(root, axis, name);
    apply_base_plugin_tables(root);
    return parse_root(ctx, root, std::move(spec));
}

// Arm k on one plugin of the axis (both in one sweep: every arm runs on every plugin). The run
// keeps the arm's name; the plugin is in its own column (runs.dataset, runs.method, ...).
SweepSpec parse_arm_on_axis(const Document& d, const PluginAxis& axis, const std::string& plugin, size_t k,
                            const std::string& name, ParseContext& ctx) {
    auto [spec, root] = fresh_copy(d, name, ctx);
    spec.axis = axis.section + "=" + plugin;
    if (const toml::node* own = root["arm"][k][axis.section]["plugin"].node())
        ctx.err(*own, "arm '" + name + "' sets " + axis.section + ".plugin, which the sweep's plugin axis varies");
    apply_axis(root, axis, plugin);
    apply_arm(root, k);
    return parse_root(ctx, root, std::move(spec));
}

} // namespace

// A diagnostic every arm has (a problem of the base sweep) once; the others with the arm's name.
std::vector<Diagnostic>
merge_arm_diagnostics(const std::vector<std::pair<std::string, std::vector<Diagnostic>>>& per_arm) {
    std::map<std::string, size_t> seen;
    for (const auto& [arm, diags] : per_arm)
        for (const auto& d : diags)
            ++seen[d.str()];
    std::vector<Diagnostic> out;
    std::set<std::string> shared_done;
    for (const auto& [arm, diags] : per_arm)
        for (const auto& d : diags) {
            if (seen[d.str()] == per_arm.size()) {
                if (shared_done.insert(d.str()).second) out.push_back(d);
            } else {
                out.push_back({d.pos, "arm '" + arm + "': " + d.message});
            }
        }
    return out;
}

std::vector<SweepSpec> parse_arms_text(const std::string& text, const std::string& file, const SweepVariant& variant,
                                       const FileReader& read_in) {
    FileReader read = read_in ? read_in : disk_reader();
    ParseContext ctx(file);
    std::string source;
    toml::table root = load_document(ctx, text, read, source);
    apply_variant(ctx, root, variant, source);
    const toml::node* arms = root.get("arm");
    std::optional<PluginAxis> axis = plugin_axis(ctx, root);
    ctx.fail_if_any();
    if (!arms && !axis) { // no second read
        apply_base_plugin_tables(root);
        return {parse_document(ctx, root, variant, std::move(source))};
    }
    std::vector<std::string> names = arms ? arm_names(ctx, *arms) : axis->plugins;
    ctx.fail_if_any();
    Document doc{text, file, variant, read};
    std::vector<SweepSpec> specs;
    std::vector<std::pair<std::string, std::vector<Diagnostic>>> diags;
    // With both, the plugin varies slowest: every arm on the first plugin, then on the next.
    std::vector<std::string> axis_values = arms && axis ? axis->plugins : std::vector<std::string>{""};
    for (const auto& plugin : axis_values)
        for (size_t k = 0; k < names.size(); ++k) {
            ParseContext arm_ctx(file);
            try {
                if (!arms)
                    specs.push_back(parse_plugin_arm(doc, *axis, names[k], arm_ctx));
                else if (axis)
                    specs.push_back(parse_arm_on_axis(doc, *axis, plugin, k, names[k], arm_ctx));
                else
                    specs.push_back(parse_arm(doc, k, names[k], arm_ctx));
            } catch (const SweepError&) {
                // a syntax or include error stops this arm's parse; its diagnostics are in arm_ctx
            }
            diags.emplace_back(names[k], arm_ctx.diagnostics());
        }
    std::vector<Diagnostic> all = merge_arm_diagnostics(diags);
    if (!all.empty()) throw SweepError(all);
    return specs;
}

std::vector<SweepSpec> parse_arms(const std::string& file, const SweepVariant& variant) {
    return parse_arms_text(*read_sweep_file(file), file, variant);
}

} // namespace iclr
