// Document loading: TOML syntax, the key-depth guard, includes with cycle detection, profiles, overrides.
#include "sweep/document.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <string_view>

#include "common/file_hash.hpp"
#include "common/process.hpp"
#include "common/text_file.hpp"
#include "sweep/validate.hpp"

namespace iclr {
namespace {

// toml++ limits nested values (256) but not dotted keys: "a.a.a..." a million levels deep
// would overflow the stack while the table tree is built or freed. No sweep needs more than a
// few levels, so keys deeper than kMaxKeyDepth are refused before parsing.
void check_key_depth(ParseContext& ctx, const std::string& text, const std::string& path) {
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
            ctx.err({path, line, col}, "key nested deeper than 64 levels");
            ctx.fail();
        }
    }
}

// `text` as TOML, named `path` in diagnostics; a syntax error is one at its position, `what` first.
toml::table parse_toml(ParseContext& ctx, const std::string& text, const std::string& path, const std::string& what) {
    check_key_depth(ctx, text, path);
    toml::parse_result parsed = toml::parse(text, path);
    if (!parsed) {
        const auto& e = parsed.error();
        ctx.err({path, int(e.source().begin.line), int(e.source().begin.column)}, what + std::string(e.description()));
        ctx.fail();
    }
    return std::move(parsed).table();
}

// Moves, never copies: a copied toml++ node forgets where it came from, and every error in an
// included file or a [profile.*] table would lose its file:line:column.
void merge(toml::table& into, toml::table&& from) {
    for (auto&& [k, v] : from) {
        toml::node* existing = into.get(k.str());
        if (existing && existing->is_table() && v.is_table() && !v.as_table()->is_inline())
            merge(*existing->as_table(), std::move(*v.as_table()));
        else
            into.insert_or_assign(k, std::move(v));
    }
}

class Loader {
  public:
    Loader(ParseContext& ctx, const FileReader& read, std::string& source_text)
        : ctx_(ctx), read_(read), source_text_(source_text) {}

    toml::table load(const std::string& text, const std::string& path) {
        toml::table own = parse_toml(ctx_, text, path, "TOML syntax error: ");
        const toml::node* inc = own.get("include");
        if (!inc) return own;
        const toml::array* list = inc->as_array();
        if (!list) fail_at(*inc, "include must be a list of file names, e.g. include = [\"base.toml\"]");
        toml::table merged;
        for (const auto& item : *list)
            merge(merged, include(item, path));
        own.erase("include");
        merge(merged, std::move(own));
        return merged;
    }

    std::vector<std::string> chain;

  private:
    toml::table include(const toml::node& item, const std::string& from) {
        if (!item.is_string()) fail_at(item, "include entries must be file names (strings)");
        std::filesystem::path target = std::filesystem::path(from).parent_path() / item.as_string()->get();
        std::string target_s = target.lexically_normal().string();
        for (const auto& c : chain)
            if (std::filesystem::path(c).lexically_normal() == target.lexically_normal()) {
                std::string cycle;
                for (const auto& x : chain)
                    cycle += x + " -> ";
                fail_at(item, "include cycle: " + cycle + target_s);
            }
        std::optional<std::string> text = read_(target_s);
        if (!text) fail_at(item, "cannot read include '" + target_s + "'");
        source_text_ += "\n# ---- include " + target_s + " ----\n" + *text;
        chain.push_back(target_s);
        toml::table sub = load(*text, target_s);
        chain.pop_back();
        return sub;
    }

    [[noreturn]] void fail_at(const toml::node& n, std::string msg) {
        ctx_.err(n, std::move(msg));
        ctx_.fail();
    }

    ParseContext& ctx_;
    const FileReader& read_;
    std::string& source_text_;
};

} // namespace

const std::set<std::string> kArmSections{"dataset", "pretrain", "model", "method"};

void merge_tables(toml::table& into, toml::table&& from) { merge(into, std::move(from)); }

FileReader disk_reader() {
    return [](const std::string& path) { return read_text_file(path, kMaxSweepBytes); };
}

toml::table load_document(ParseContext& ctx, const std::string& text, const FileReader& read,
                          std::string& source_text) {
    source_text = text;
    Loader loader(ctx, read, source_text);
    loader.chain.push_back(ctx.file());
    return loader.load(text, ctx.file());
}

namespace {

void apply_profile(ParseContext& ctx, toml::table& root, const std::string& profile) {
    toml::table* profiles = root["profile"].as_table();
    if (!profile.empty()) {
        toml::table* chosen = profiles ? profiles->get_as<toml::table>(profile) : nullptr;
        if (!chosen) {
            std::string avail;
            if (profiles)
                for (auto&& [k, v] : *profiles)
                    avail += (avail.empty() ? "" : ", ") + std::string(k.str());
            ctx.err({ctx.file(), 1, 1},
                    "unknown profile '" + profile + "' (this sweep defines: " + (avail.empty() ? "none" : avail) + ")");
            ctx.fail();
        }
        toml::table overlay = std::move(*chosen);
        merge(root, std::move(overlay));
    }
    root.erase("profile");
}

// How an override is written into the sweep's recorded source text: the line that opens it.
constexpr std::string_view kSetOpen = "# ---- --set ", kSetClose = " ----";

// The sections an override may change: the plain tables every trial is made of.
const std::set<std::string> kSettable{"sweep", "dataset", "pretrain", "model", "method"};

// `--set arm.NAME.SECTION.KEY=VALUE`: merged into the [[arm]] named NAME, so that a key only some
// arms' plugins have (maml_variants: `zeroing`, which unicorn_maml lacks) can be changed for them.
void apply_arm_set(ParseContext& ctx, toml::table& root, toml::table&& by_name) {
    toml::array* arms = root["arm"].as_array();
    for (auto&& [name, v] : by_name) {
        toml::table* arm = nullptr;
        std::string known;
        for (size_t k = 0; arms && k < arms->size(); ++k)
            if (toml::table* t = (*arms)[k].as_table()) {
                auto n = t->get_as<std::string>("name");
                known += (known.empty() ? "" : ", ") + (n ? n->get() : std::string("?"));
                if (n && n->get() == name.str()) arm = t;
            }
        if (!arm) {
            ctx.err(v, "--set arm." + std::string(name.str()) +
                           ": the sweep has no arm of that name (its arms: " + (known.empty() ? "none" : known) + ")");
            ctx.fail();
        }
        const toml::table* sections = v.as_table();
        bool ok = sections && !sections->is_inline();
        if (ok)
            for (auto&& [k, s] : *sections)
                ok = ok && kArmSections.count(std::string(k.str())) && s.is_table() && !s.as_table()->is_inline();
        if (!ok) {
            ctx.err(v, "--set arm.NAME.SECTION.KEY=VALUE changes one key of an arm's [dataset], [pretrain], [model] "
                       "or [method], e.g. arm.zeroing.method.inner_lr=0.1");
            ctx.fail();
        }
        merge(*arm, std::move(*v.as_table()));
    }
}

// `method.optimizer=adam` read as `method.optimizer="adam"`, as Hydra and a shell habit read it:
// TOML has no bare-word values, so no override that parses changes meaning; true, false, inf and nan
// stay TOML's. The quotes go around the word in place, so a diagnostic's column is the same.
std::string quoted_bare_word(const std::string& set) {
    size_t eq = set.find('=');
    if (eq == std::string::npos) return set;
    size_t b = set.find_first_not_of(" \t", eq + 1);
    if (b == std::string::npos) return set;
    size_t e = set.find_last_not_of(" \t") + 1;
    std::string word = set.substr(b, e - b);
    auto letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
    auto inner = [&](char c) {
        return letter(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '/';
    };
    if (!letter(word[0]) || !std::all_of(word.begin(), word.end(), inner)) return set;
    if (word == "true" || word == "false" || word == "inf" || word == "nan") return set;
    return set.substr(0, b) + "\"" + word + "\"" + set.substr(e);
}

// `--set '~SECTION.KEY'` removes a key the sweep sets, so the plugin's default applies (Hydra's
// `~key`): swapping in a plugin that lacks a key the file sets (`model.plugin=lenet` where the file
// says `depth = 2`) without editing the file. An [[arm]]'s own keys stay, as with any override.
void apply_unset(ParseContext& ctx, toml::table& root, const std::string& set, std::string& source_text) {
    const std::string where = "--set " + set, path = set.substr(1);
    size_t dot = path.find('.');
    std::string section = path.substr(0, dot), key = dot == std::string::npos ? "" : path.substr(dot + 1);
    toml::table* table = root[section].as_table();
    std::string problem;
    if (!kSettable.count(section) || key.empty() || key.find('.') != std::string::npos)
        problem = "~SECTION.KEY removes one key of [sweep], [dataset], [pretrain], [model] or [method], e.g. "
                  "'~model.depth'";
    else if (key == "plugin")
        problem = "a section's plugin cannot be removed; set another: " + section + ".plugin=NAME";
    else if (!table || !table->contains(key)) {
        std::vector<std::string> keys;
        if (table)
            for (auto&& [k, v] : *table)
                keys.push_back(section + "." + std::string(k.str()));
        problem = "the sweep sets no " + path + ", so there is nothing to remove" + did_you_mean(path, keys);
    }
    if (!problem.empty()) {
        ctx.err({where, 1, 2}, problem);
        ctx.fail();
    }
    table->erase(key);
    source_text += "\n" + std::string(kSetOpen) + set + std::string(kSetClose) + "\n# " + path + " removed\n";
}

// One `--set KEY=VALUE`: parsed as TOML with itself as the file name, so a diagnostic (a syntax
// error here, an unknown parameter or a bad value in validation) points into the override.
void apply_set(ParseContext& ctx, toml::table& root, const std::string& set, std::string& source_text) {
    const std::string where = "--set " + set, text = quoted_bare_word(set);
    toml::table over = parse_toml(ctx, text, where,
                                  "expected SECTION.KEY=VALUE with a TOML value (method.lr=0.1, model.width={ grid = "
                                  "[32, 64] }, method.optimizer='adam'): ");
    if (over.empty()) {
        ctx.err({where, 1, 1}, "expected SECTION.KEY=VALUE, e.g. method.lr=0.1; this sets nothing");
        ctx.fail();
    }
    for (auto&& [k, v] : over)
        if ((!kSettable.count(std::string(k.str())) && k.str() != "arm") || !v.is_table() ||
            v.as_table()->is_inline()) {
            ctx.err(v,
                    "--set changes one key of [sweep], [dataset], [pretrain], [model] or [method]: SECTION.KEY=VALUE, "
                    "e.g. method.lr=0.1; or of one arm: arm.NAME.SECTION.KEY=VALUE");
            ctx.fail();
        }
    source_text += "\n" + std::string(kSetOpen) + set + std::string(kSetClose) + "\n" + text + "\n";
    if (toml::table* by_name = over["arm"].as_table()) {
        apply_arm_set(ctx, root, std::move(*by_name));
        over.erase("arm");
    }
    merge(root, std::move(over));
}

} // namespace

void apply_variant(ParseContext& ctx, toml::table& root, const SweepVariant& variant, std::string& source_text) {
    apply_profile(ctx, root, variant.profile);
    for (const auto& set : variant.sets)
        if (set.starts_with("~"))
            apply_unset(ctx, root, set, source_text);
        else
            apply_set(ctx, root, set, source_text);
}

SweepVariant recorded_variant(const std::string& profile, const std::string& source_text) {
    SweepVariant v{profile, {}};
    size_t at = 0;
    while (at < source_text.size()) {
        size_t end = source_text.find('\n', at);
        std::string_view line(source_text.data() + at, (end == std::string::npos ? source_text.size() : end) - at);
        if (line.size() > kSetOpen.size() + kSetClose.size() && line.substr(0, kSetOpen.size()) == kSetOpen &&
            line.substr(line.size() - kSetClose.size()) == kSetClose)
            v.sets.emplace_back(line.substr(kSetOpen.size(), line.size() - kSetOpen.size() - kSetClose.size()));
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return v;
}

std::string SweepVariant::arguments() const {
    std::string out = profile.empty() ? "" : "--profile " + shell_word(profile);
    for (const auto& s : sets)
        out += (out.empty() ? "--set " : " --set ") + shell_quoted(s);
    return out;
}

std::string SweepVariant::flags() const {
    std::string args = arguments();
    return args.empty() ? args : " " + args;
}

std::string SweepVariant::tag() const {
    std::string out;
    if (!profile.empty()) {
        // A quoted TOML key may hold anything; a file name keeps letters, digits, '-' and '_'.
        out = ".";
        for (char c : profile)
            out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    }
    if (!sets.empty()) {
        std::string joined;
        for (const auto& s : sets)
            joined += s + '\n';
        out += ".set-" + sha256_hex(joined).substr(0, 8);
    }
    return out;
}

} // namespace iclr
