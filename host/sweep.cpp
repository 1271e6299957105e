// Sweep file parsing: TOML++ nodes to SweepSpec, collecting every structural error with its position.
#include "sweep.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "values.hpp"

namespace iclr {

bool read_file(const std::string& path, std::string& out); // below: size-capped whole-file read

namespace {

const std::set<std::string> kGridDirectives{"grid", "range", "linspace", "logspace"};
const std::set<std::string> kRandomDirectives{"choice", "uniform", "loguniform", "randint"};
const std::set<std::string> kExcludeOps{"eq", "ne", "lt", "le", "gt", "ge", "in"};
constexpr int64_t kMaxAxisValues = 10'000'000;

class Parser {
  public:
    Parser(std::string file, std::string profile) : file_(std::move(file)) {
        spec_.file = file_;
        spec_.profile = std::move(profile);
    }

    SweepSpec run(const std::string& text) {
        spec_.source_text = text;
        std::vector<std::string> chain{file_};
        toml::table root = load(text, file_, chain);
        apply_profile(root);
        for (auto&& [k, node] : root) {
            std::string key(k.str());
            if (key == "include") continue; // resolved by load()
            if (key != "sweep" && key != "dataset" && key != "pretrain" && key != "model" && key != "method" &&
                key != "metric")
                err(node, "unknown section '" + key +
                              "' (expected sweep, dataset, pretrain, model, method, metric, profile)");
        }
        if (const toml::node* s = root.get("sweep"))
            parse_sweep_table(*s);
        else
            spec_.name = std::filesystem::path(file_).stem().string();
        for (const char* role : {"dataset", "pretrain", "model", "method"}) {
            const toml::node* n = root.get(role);
            if (!n) {
                if (std::string(role) == "method")
                    diags_.push_back({{file_, 1, 1}, "missing [method] section: a sweep needs a method plugin"});
                continue;
            }
            parse_section(role, 0, *n);
        }
        if (const toml::node* m = root.get("metric")) {
            if (const toml::array* arr = m->as_array()) {
                int i = 0;
                for (const auto& e : *arr)
                    parse_section("metric", i++, e);
            } else {
                parse_section("metric", 0, *m);
            }
        }
        label_metrics();
        check_zip_groups();
        check_random_axes();
        if (exclude_node_) parse_excludes(*exclude_node_);
        if (!diags_.empty()) throw SweepError(diags_);
        return spec_;
    }

  private:
    std::string file_;
    SweepSpec spec_;
    std::vector<Diagnostic> diags_;
    const toml::array* exclude_node_ = nullptr;

    SourcePos pos(const toml::node& n) const {
        const auto& s = n.source();
        return {s.path ? *s.path : file_, int(s.begin.line), int(s.begin.column)};
    }
    void err(const toml::node& n, std::string msg) { diags_.push_back({pos(n), std::move(msg)}); }

    // toml++ limits nested values (256) but not dotted keys: "a.a.a..." a million levels deep
    // would overflow the stack while the table tree is built or freed. No sweep needs more than a
    // few levels, so keys deeper than kMaxKeyDepth are refused before parsing.
    void check_key_depth(const std::string& text, const std::string& path) {
        constexpr int kMaxKeyDepth = 64;
        int line = 1, col = 0, dots = 0;
        bool in_key = true, in_string = false;
        char quote = 0;
        for (char c : text) {
            ++col;
            if (c == '\n') {
                ++line;
                col = 0;
                dots = 0;
                in_key = true;
                in_string = false;
                continue;
            }
            if (!in_key) continue;
            if (in_string) {
                if (c == quote) in_string = false;
                continue;
            }
            if (c == '"' || c == '\'') {
                in_string = true;
                quote = c;
                continue;
            }
            if (c == '=' || c == '#' || c == ']' || c == ',' || c == '{' || c == '}') {
                in_key = false;
                continue;
            }
            if (c == '.' && ++dots > kMaxKeyDepth) {
                diags_.push_back({{path, line, col}, "key nested deeper than 64 levels"});
                throw SweepError(diags_);
            }
        }
    }

    // Parses one file and resolves its top-level `include = ["base.toml", ...]` (paths relative to
    // the including file): the included tables come first, this file's keys override them.
    toml::table load(const std::string& text, const std::string& path, std::vector<std::string>& chain) {
        check_key_depth(text, path);
        toml::parse_result parsed = toml::parse(text, path);
        if (!parsed) {
            const auto& e = parsed.error();
            diags_.push_back({{path, int(e.source().begin.line), int(e.source().begin.column)},
                              "TOML syntax error: " + std::string(e.description())});
            throw SweepError(diags_);
        }
        toml::table own = std::move(parsed).table();
        const toml::node* inc = own.get("include");
        if (!inc) return own;
        const toml::array* list = inc->as_array();
        if (!list) {
            err(*inc, "include must be a list of file names, e.g. include = [\"base.toml\"]");
            throw SweepError(diags_);
        }
        toml::table merged;
        for (const auto& item : *list) {
            if (!item.is_string()) {
                err(item, "include entries must be file names (strings)");
                throw SweepError(diags_);
            }
            std::filesystem::path target = std::filesystem::path(path).parent_path() / item.as_string()->get();
            std::string target_s = target.lexically_normal().string();
            for (const auto& c : chain)
                if (std::filesystem::path(c).lexically_normal() == target.lexically_normal()) {
                    std::string cycle;
                    for (const auto& x : chain)
                        cycle += x + " -> ";
                    err(item, "include cycle: " + cycle + target_s);
                    throw SweepError(diags_);
                }
            std::string inc_text;
            if (!read_file(target_s, inc_text)) {
                err(item, "cannot read include '" + target_s + "'");
                throw SweepError(diags_);
            }
            spec_.source_text += "\n# ---- include " + target_s + " ----\n" + inc_text;
            chain.push_back(target_s);
            toml::table sub = load(inc_text, target_s, chain);
            chain.pop_back();
            merge(merged, sub);
        }
        own.erase("include");
        merge(merged, own);
        return merged;
    }

    static void merge(toml::table& into, const toml::table& from) {
        for (auto&& [k, v] : from) {
            toml::node* existing = into.get(k.str());
            if (existing && existing->is_table() && v.is_table() && !v.as_table()->is_inline())
                merge(*existing->as_table(), *v.as_table());
            else
                into.insert_or_assign(k, v);
        }
    }

    void apply_profile(toml::table& root) {
        const toml::table* profiles = root["profile"].as_table();
        if (!spec_.profile.empty()) {
            const toml::table* chosen = profiles ? profiles->get_as<toml::table>(spec_.profile) : nullptr;
            if (!chosen) {
                std::string avail;
                if (profiles)
                    for (auto&& [k, v] : *profiles)
                        avail += (avail.empty() ? "" : ", ") + std::string(k.str());
                diags_.push_back({{file_, 1, 1},
                                  "unknown profile '" + spec_.profile +
                                      "' (this sweep defines: " + (avail.empty() ? "none" : avail) + ")"});
                throw SweepError(diags_);
            }
            toml::table copy = *chosen;
            merge(root, copy);
        }
        root.erase("profile");
    }

    std::optional<int64_t> get_int(const toml::node& n, const std::string& what) {
        if (auto v = n.as_integer()) return v->get();
        err(n, what + " must be an integer");
        return std::nullopt;
    }

    void parse_sweep_table(const toml::node& node) {
        const toml::table* t = node.as_table();
        if (!t) return err(node, "[sweep] must be a table");
        spec_.name = std::filesystem::path(file_).stem().string();
        for (auto&& [k, v] : *t) {
            std::string key(k.str());
            if (key == "name" || key == "description") {
                if (!v.is_string()) {
                    err(v, "sweep." + key + " must be a string");
                    continue;
                }
                (key == "name" ? spec_.name : spec_.description) = v.as_string()->get();
            } else if (key == "seeds") {
                if (auto n = v.as_integer()) {
                    if (n->get() < 1 || n->get() > 100000)
                        err(v, "seeds must be between 1 and 100000");
                    else {
                        spec_.seeds.clear();
                        for (int64_t s = 0; s < n->get(); ++s)
                            spec_.seeds.push_back(s);
                    }
                } else if (auto arr = v.as_array()) {
                    std::vector<int64_t> seeds;
                    std::set<int64_t> seen;
                    for (const auto& e : *arr) {
                        if (!e.is_integer()) {
                            err(e, "seeds must be integers");
                            continue;
                        }
                        if (!seen.insert(e.as_integer()->get()).second) err(e, "seed listed twice");
                        seeds.push_back(e.as_integer()->get());
                    }
                    if (seeds.empty())
                        err(v, "seeds is an empty list");
                    else
                        spec_.seeds = seeds;
                } else {
                    err(v, "seeds must be a count (3) or a list of seeds ([0, 1, 2])");
                }
            } else if (key == "jobs") {
                if (auto n = get_int(v, "sweep.jobs")) {
                    if (*n < 1 || *n > 256)
                        err(v, "jobs must be between 1 and 256");
                    else
                        spec_.jobs = int(*n);
                }
            } else if (key == "timeout") {
                parse_timeout(v);
            } else if (key == "memory_mb") {
                if (auto n = get_int(v, "sweep.memory_mb")) {
                    if (*n < 0)
                        err(v, "memory_mb must be >= 0");
                    else
                        spec_.memory_mb = *n;
                }
            } else if (key == "samples") {
                if (auto n = get_int(v, "sweep.samples")) {
                    if (*n < 1 || *n > 100'000'000)
                        err(v, "samples must be between 1 and 100000000");
                    else
                        spec_.samples = *n;
                }
            } else if (key == "sweep_seed") {
                if (auto n = get_int(v, "sweep.sweep_seed")) spec_.sweep_seed = uint64_t(*n);
            } else if (key == "exclude") {
                if (const toml::array* arr = v.as_array()) {
                    exclude_node_ = arr; // the root table outlives parsing, so positions stay intact
                } else {
                    err(v, "exclude must be a list of tables, e.g. [{ \"model.width\" = 1024 }]");
                }
            } else {
                err(v,
                    "unknown key sweep." + key +
                        " (known: name, description, seeds, jobs, timeout, memory_mb, samples, sweep_seed, exclude)");
            }
        }
    }

    void parse_timeout(const toml::node& v) {
        double secs = -1;
        if (v.is_number()) {
            secs = v.is_integer() ? double(v.as_integer()->get()) : v.as_floating_point()->get();
        } else if (auto s = v.as_string()) {
            std::string t = s->get();
            char unit = t.empty() ? 0 : t.back();
            double mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
            try {
                size_t used = 0;
                double x = std::stod(t.substr(0, t.size() - 1), &used);
                if (mult > 0 && used == t.size() - 1) secs = x * mult;
            } catch (...) {
            }
        }
        if (secs < 0 || !std::isfinite(secs))
            err(v, "timeout must be seconds (600) or a duration (\"90s\", \"10m\", \"2h\")");
        else
            spec_.timeout_s = secs;
    }

    void parse_section(const std::string& role, int index, const toml::node& node) {
        const toml::table* t = node.as_table();
        if (!t) return err(node, "[" + role + "] must be a table");
        SectionSpec s;
        s.role = role;
        s.index = index;
        s.pos = pos(node);
        s.label = role;
        int section_index = int(spec_.sections.size());
        const toml::node* plugin = t->get("plugin");
        if (!plugin)
            err(node, "[" + role + "] needs plugin = \"name\"");
        else if (!plugin->is_string())
            err(*plugin, role + ".plugin must be a string");
        else {
            s.plugin = plugin->as_string()->get();
            s.plugin_pos = pos(*plugin);
        }
        for (auto&& [k, v] : *t) {
            std::string key(k.str());
            if (key == "plugin") continue;
            s.key_pos[key] = pos(v);
            if (const toml::table* d = v.as_table()) {
                parse_directive(section_index, role, key, *d, v);
            } else if (auto val = value_from_toml(v)) {
                s.fixed[key] = *val;
            } else {
                err(v, role + "." + key + ": dates and times are not parameter values");
            }
        }
        spec_.sections.push_back(std::move(s));
    }

    std::optional<double> number(const toml::node& n) {
        if (auto i = n.as_integer()) return double(i->get());
        if (auto f = n.as_floating_point()) return f->get();
        err(n, "expected a number");
        return std::nullopt;
    }

    void parse_directive(int section, const std::string& role, const std::string& key, const toml::table& d,
                         const toml::node& node) {
        Axis a;
        a.section = section;
        a.key = key;
        a.label = role + "." + key;
        a.pos = pos(node);
        const toml::node* body = nullptr;
        for (auto&& [k, v] : d) {
            std::string dk(k.str());
            if (dk == "zip") {
                if (!v.is_string())
                    err(v, "zip must be a group name string");
                else
                    a.zip = v.as_string()->get();
            } else if (kGridDirectives.count(dk) || kRandomDirectives.count(dk)) {
                if (body) {
                    err(v, a.label + ": more than one directive in one table");
                    return;
                }
                a.directive = dk;
                body = &v;
            } else {
                err(v, a.label + ": unknown directive '" + dk +
                           "' (known: grid, range, linspace, logspace, choice, uniform, loguniform, randint, zip)");
                return;
            }
        }
        if (!body) return err(node, a.label + ": a table value must hold a directive, e.g. { grid = [1, 2] }");
        const toml::array* arr = body->as_array();
        if (!arr) return err(*body, a.label + ": " + a.directive + " takes an array");
        const std::string& dir = a.directive;
        if (dir == "grid" || dir == "choice") {
            if (arr->empty()) return err(*body, a.label + ": empty " + dir + " (it would give no trials)");
            for (const auto& e : *arr) {
                auto v = value_from_toml(e);
                if (!v) {
                    err(e, a.label + ": unsupported value in " + dir);
                    continue;
                }
                a.values.push_back(*v);
                a.value_pos.push_back(pos(e));
            }
            a.kind = dir == "grid" ? Axis::Kind::Grid : Axis::Kind::Choice;
        } else if (dir == "range") {
            if (arr->size() < 2 || arr->size() > 3)
                return err(*body, a.label + ": range = [start, stop] or [start, stop, step] (stop excluded)");
            bool all_int = true;
            for (const auto& e : *arr)
                all_int = all_int && e.is_integer();
            auto start = number(*arr->get(0)), stop = number(*arr->get(1));
            auto step = arr->size() == 3 ? number(*arr->get(2)) : std::optional<double>(1.0);
            if (!start || !stop || !step) return;
            if (*step == 0 || (*stop - *start) / *step < 0)
                return err(*body, a.label + ": range step goes away from stop (or is zero)");
            double count = std::ceil((*stop - *start) / *step - 1e-9);
            if (count < 1) return err(*body, a.label + ": empty range (it would give no trials)");
            if (count > double(kMaxAxisValues)) return err(*body, a.label + ": range has more than 10000000 values");
            a.gen = Axis::Gen::Range;
            a.count = uint64_t(count);
            a.start = *start;
            a.step = *step;
            a.ints = all_int;
        } else if (dir == "linspace" || dir == "logspace") {
            if (arr->size() != 3 || !arr->get(2)->is_integer())
                return err(*body, a.label + ": " + dir + " = [low, high, count]");
            auto lo = number(*arr->get(0)), hi = number(*arr->get(1));
            int64_t n = arr->get(2)->as_integer()->get();
            if (!lo || !hi) return;
            if (n < 1 || n > kMaxAxisValues)
                return err(*arr->get(2), a.label + ": count must be between 1 and 10000000");
            if (dir == "logspace" && (*lo <= 0 || *hi <= 0))
                return err(*body, a.label + ": logspace bounds must be > 0 (they are values, not exponents)");
            a.gen = dir == "linspace" ? Axis::Gen::Linspace : Axis::Gen::Logspace;
            a.count = uint64_t(n);
            a.lo = *lo;
            a.hi = *hi;
        } else { // uniform, loguniform, randint
            if (arr->size() != 2) return err(*body, a.label + ": " + dir + " = [low, high]");
            auto lo = number(*arr->get(0)), hi = number(*arr->get(1));
            if (!lo || !hi) return;
            if (*lo > *hi) return err(*body, a.label + ": " + dir + " low > high");
            if (dir == "loguniform" && *lo <= 0) return err(*body, a.label + ": loguniform bounds must be > 0");
            if (dir == "randint" && !(arr->get(0)->is_integer() && arr->get(1)->is_integer()))
                return err(*body, a.label + ": randint bounds must be integers");
            a.lo = *lo;
            a.hi = *hi;
            a.kind = dir == "uniform"      ? Axis::Kind::Uniform
                     : dir == "loguniform" ? Axis::Kind::LogUniform
                                           : Axis::Kind::RandInt;
        }
        if (a.random() && !a.zip.empty()) return err(node, a.label + ": zip applies to grid-like directives only");
        spec_.axes.push_back(std::move(a));
    }

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
                diags_.push_back({a.pos, "zip group '" + a.zip + "': " + a.label + " has " + std::to_string(a.size()) +
                                             " values but " + it->second->label + " (" + it->second->pos.str() +
                                             ") has " + std::to_string(it->second->size())});
        }
    }

    void check_random_axes() {
        for (const auto& a : spec_.axes)
            if (a.random() && spec_.samples == 0)
                diags_.push_back({a.pos, a.label + ": a random directive needs [sweep] samples = N (how many draws)"});
    }

    void parse_excludes(const toml::array& arr) {
        for (const auto& rule_node : arr) {
            const toml::table* t = rule_node.as_table();
            if (!t || t->empty()) {
                err(rule_node, "exclude entries must be non-empty tables of \"section.key\" = value");
                continue;
            }
            ExcludeRule rule;
            rule.pos = pos(rule_node);
            for (auto&& [k, v] : *t) {
                std::string label(k.str());
                bool known = false;
                for (const auto& a : spec_.axes)
                    known = known || a.label == label;
                if (!known) {
                    err(v, "exclude: '" + label + "' is not a swept parameter");
                    continue;
                }
                ExcludeRule::Cond c;
                c.label = label;
                if (const toml::table* op = v.as_table()) {
                    if (op->size() != 1) {
                        err(v, "exclude: use one operator per key, e.g. { gt = 0.1 }");
                        continue;
                    }
                    auto first = op->cbegin();
                    c.op = std::string(first->first.str());
                    const toml::node& ov = first->second;
                    if (!kExcludeOps.count(c.op)) {
                        err(ov, "exclude: unknown operator '" + c.op + "' (eq ne lt le gt ge in)");
                        continue;
                    }
                    auto val = value_from_toml(ov);
                    if (!val) {
                        err(ov, "exclude: unsupported value");
                        continue;
                    }
                    if (c.op == "in" && val->type != Value::Type::List) {
                        err(ov, "exclude: 'in' takes a list");
                        continue;
                    }
                    c.value = *val;
                } else {
                    auto val = value_from_toml(v);
                    if (!val) {
                        err(v, "exclude: unsupported value");
                        continue;
                    }
                    c.op = "eq";
                    c.value = *val;
                }
                rule.conds.push_back(std::move(c));
            }
            if (!rule.conds.empty()) spec_.excludes.push_back(std::move(rule));
        }
    }
};

} // namespace

constexpr size_t kMaxSweepBytes = 16u << 20;

bool read_file(const std::string& path, std::string& out) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    if (std::filesystem::file_size(path, ec) > kMaxSweepBytes) return false;
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

Value Axis::value(size_t k) const {
    switch (gen) {
    case Gen::List:
        return values[k];
    case Gen::Range: {
        double x = start + double(k) * step;
        return ints ? Value::of_int(int64_t(std::llround(x))) : Value::of_float(x);
    }
    case Gen::Linspace:
    case Gen::Logspace: {
        if (k == 0) return Value::of_float(lo); // exact endpoints: 0.01 stays 0.01
        if (k + 1 == count) return Value::of_float(hi);
        double t = double(k) / double(count - 1);
        if (gen == Gen::Linspace) return Value::of_float(lo + t * (hi - lo));
        return Value::of_float(std::pow(10.0, std::log10(lo) + t * (std::log10(hi) - std::log10(lo))));
    }
    }
    return {};
}

iclr_kind role_kind(const std::string& role) {
    if (role == "dataset" || role == "pretrain") return ICLR_KIND_DATASET;
    if (role == "model") return ICLR_KIND_MODEL;
    if (role == "metric") return ICLR_KIND_METRIC;
    return ICLR_KIND_METHOD;
}

SweepSpec parse_sweep_text(const std::string& text, const std::string& file, const std::string& profile) {
    return Parser(file, profile).run(text);
}

SweepSpec parse_sweep(const std::string& file, const std::string& profile) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) throw UserError(file + ": no such sweep file");
    if (std::filesystem::is_directory(file, ec)) throw UserError(file + ": is a directory, not a sweep file");
    if (std::filesystem::file_size(file, ec) > kMaxSweepBytes)
        throw UserError(file + ": larger than 16 MiB; a sweep file is a few hundred lines");
    std::string text;
    if (!read_file(file, text)) throw UserError(file + ": cannot read");
    return parse_sweep_text(text, file, profile);
}

} // namespace iclr
