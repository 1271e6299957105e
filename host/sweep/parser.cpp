// Sweep parsing: a document's tables to a SweepSpec, collecting every structural error with its position.
#include <filesystem>
#include <map>

#include "common/values.hpp"
#include "sweep/document.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {

const std::array<const char*, 4> kSectionRoles{"dataset", "pretrain", "model", "method"};

namespace {

class Parser {
  public:
    Parser(ParseContext& ctx, SweepSpec& spec) : ctx_(ctx), spec_(spec) {}

    void run(const toml::table& root) {
        check_top_level_keys(root);
        if (const toml::node* s = root.get("sweep"))
            parse_sweep_table(ctx_, *s, spec_, extras_);
        else
            spec_.name = std::filesystem::path(ctx_.file()).stem().string();
        for (const char* role : kSectionRoles) {
            if (const toml::node* n = root.get(role))
                parse_section(role, 0, *n);
            else if (std::string(role) == "method")
                ctx_.err({ctx_.file(), 1, 1}, "missing [method] section: a sweep needs a method plugin");
        }
        if (const toml::node* m = root.get("metric")) parse_metrics(*m);
        if (const toml::node* c = root.get("claim")) spec_.claims = parse_claims(ctx_, *c);
        if (const toml::node* p = root.get("plot")) spec_.plots = parse_plots(ctx_, *p);
        label_metrics();
        check_zip_groups();
        check_random_axes();
        if (extras_.exclude) spec_.excludes = parse_excludes(ctx_, *extras_.exclude, spec_.axes);
    }

  private:
    void check_top_level_keys(const toml::table& root) {
        for (auto&& [k, node] : root) {
            std::string key(k.str());
            if (key == "include") continue; // resolved by load_document()
            if (key != "sweep" && key != "metric" && key != "claim" && key != "plot" && key != "arm" &&
                std::find(std::begin(kSectionRoles), std::end(kSectionRoles), key) == std::end(kSectionRoles))
                ctx_.err(node,
                         "unknown section '" + key +
                             "' (expected sweep, dataset, pretrain, model, method, metric, arm, claim, plot, profile)");
        }
    }

    void parse_metrics(const toml::node& m) {
        if (const toml::array* arr = m.as_array()) {
            int i = 0;
            for (const auto& e : *arr)
                parse_section("metric", i++, e);
        } else {
            parse_section("metric", 0, m);
        }
    }

    // One plugin section: plugin = "name", fixed values, and directives that become axes.
    void parse_section(const std::string& role, int index, const toml::node& node) {
        const toml::table* t = node.as_table();
        if (!t) return ctx_.err(node, "[" + role + "] must be a table");
        SectionSpec s;
        s.role = role;
        s.index = index;
        s.pos = ctx_.pos(node);
        s.label = role;
        int section_index = int(spec_.sections.size());
        const toml::node* plugin = t->get("plugin");
        if (!plugin)
            ctx_.err(node, "[" + role + "] needs plugin = \"name\"");
        else if (!plugin->is_string())
            ctx_.err(*plugin, role + ".plugin must be a string");
        else if (plugin->as_string()->get().empty()) // validation reads an empty name as "no plugin, already said"
            ctx_.err(*plugin, role + ".plugin is empty (`iclr plugins` lists the plugins there are)");
        else {
            s.plugin = plugin->as_string()->get();
            s.plugin_pos = ctx_.pos(*plugin);
        }
        for (auto&& [k, v] : *t) {
            std::string key(k.str());
            if (key == "plugin") continue;
            s.key_pos[key] = ctx_.pos(v);
            if (const toml::table* d = v.as_table())
                parse_directive(ctx_, section_index, role, key, *d, v, spec_.axes);
            else if (auto val = value_from_toml(v))
                s.fixed[key] = *val;
            else
                ctx_.err(v, role + "." + key + ": " +
                                (v.is_array() ? "a list of tables or dates is not a parameter value"
                                              : "dates and times are not parameter values") +
                                sweep_key_hint(key));
        }
        spec_.sections.push_back(std::move(s));
    }

    // "metric.accuracy", or "metric.<index>" when a metric plugin appears twice.
    void label_metrics() {
        std::map<std::string, int> count;
        for (const auto& s : spec_.sections)
            if (s.role == "metric") ++count[s.plugin];
        for (auto& s : spec_.sections)
            if (s.role == "metric") s.label = "metric." + (count[s.plugin] == 1 ? s.plugin : std::to_string(s.index));
        for (auto& a : spec_.axes)
            a.label = spec_.sections[size_t(a.section)].label + "." + a.key;
    }

    void check_zip_groups() {
        std::map<std::string, const Axis*> first;
        for (const auto& a : spec_.axes) {
            if (a.zip.empty()) continue;
            auto [it, fresh] = first.emplace(a.zip, &a);
            if (!fresh && it->second->size() != a.size())
                ctx_.err(a.pos, "zip group '" + a.zip + "': " + a.label + " has " + std::to_string(a.size()) +
                                    " values but " + it->second->label + " (" + it->second->pos.str() + ") has " +
                                    std::to_string(it->second->size()));
        }
    }

    void check_random_axes() {
        for (const auto& a : spec_.axes)
            if (a.random() && spec_.samples == 0)
                ctx_.err(a.pos, a.label + ": a random directive needs [sweep] samples = N (how many draws)");
    }

    ParseContext& ctx_;
    SweepSpec& spec_;
    SweepExtras extras_;
};

} // namespace

iclr_kind role_kind(const std::string& role) {
    if (role == "dataset" || role == "pretrain") return ICLR_KIND_DATASET;
    if (role == "model") return ICLR_KIND_MODEL;
    if (role == "metric") return ICLR_KIND_METRIC;
    return ICLR_KIND_METHOD;
}

// The document's tables to a spec (the root's [[arm]] tables, if any, already merged or ignored).
SweepSpec parse_root(ParseContext& ctx, const toml::table& root, SweepSpec spec) {
    Parser(ctx, spec).run(root);
    return spec;
}

SweepSpec parse_document(ParseContext& ctx, const toml::table& root, const SweepVariant& variant, std::string source) {
    SweepSpec spec;
    spec.file = ctx.file();
    spec.variant = variant;
    spec.source_text = std::move(source);
    spec = parse_root(ctx, root, std::move(spec));
    ctx.fail_if_any();
    return spec;
}

SweepSpec parse_sweep_text(const std::string& text, const std::string& file, const SweepVariant& variant,
                           const FileReader& read) {
    ParseContext ctx(file);
    std::string source;
    toml::table root = load_document(ctx, text, read ? read : disk_reader(), source);
    apply_variant(ctx, root, variant, source);
    return parse_document(ctx, root, variant, std::move(source));
}

std::optional<std::string> read_sweep_file(const std::string& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) throw UserError(file + ": no such sweep file");
    if (std::filesystem::is_directory(file, ec)) throw UserError(file + ": is a directory, not a sweep file");
    if (!std::filesystem::is_regular_file(file, ec))
        throw UserError(file + ": not a regular file (a sweep is a TOML text file)");
    if (std::filesystem::file_size(file, ec) > kMaxSweepBytes)
        throw UserError(file + ": larger than 16 MiB; a sweep file is a few hundred lines");
    std::optional<std::string> text = disk_reader()(file);
    if (!text) throw UserError(file + ": cannot read (unreadable, or larger than 16 MiB)");
    return text;
}

SweepSpec parse_sweep(const std::string& file, const SweepVariant& variant) {
    return parse_sweep_text(*read_sweep_file(file), file, variant);
}

} // namespace iclr
