// What makes a trial apart from its plugins' versions, or its seed: the canonical config text without them,
// and the text part by part.
#include "common/trial_config.hpp"

#include <cstdlib>

namespace iclr {

std::string config_without_versions(const std::string& config_toml) {
    std::string out;
    for (size_t at = 0; at < config_toml.size();) {
        size_t end = config_toml.find('\n', at);
        end = end == std::string::npos ? config_toml.size() : end + 1;
        // canonical_config writes each part's version on a line of its own, "version = ..." at the
        // start; a parameter named version sits inside "params = { ... }".
        if (config_toml.compare(at, 10, "version = ") != 0) out.append(config_toml, at, end - at);
        at = end;
    }
    return out;
}

std::string config_at_any_seed(const std::string& config_toml) {
    size_t end = config_toml.find('\n');
    return config_toml.compare(0, 7, "seed = ") == 0 && end != std::string::npos ? config_toml.substr(end + 1)
                                                                                 : config_toml;
}

namespace {

// "a = 1, b = [1, 2], c = \"x, y\"" -> its items, split at the commas outside strings and lists.
std::vector<std::string> inline_items(const std::string& body) {
    std::vector<std::string> out;
    std::string item;
    int depth = 0;
    bool quoted = false;
    for (size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (quoted && c == '\\' && i + 1 < body.size()) {
            item += c;
            c = body[++i];
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && (c == '[' || c == '{')) {
            ++depth;
        } else if (!quoted && (c == ']' || c == '}')) {
            --depth;
        } else if (!quoted && depth == 0 && c == ',') {
            out.push_back(item);
            item.clear();
            continue;
        }
        item += c;
    }
    if (item.find_first_not_of(' ') != std::string::npos) out.push_back(item);
    return out;
}

std::string trimmed(const std::string& s) {
    size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// A quoted plugin name or version ("noop" -> noop); canonical_config writes identifiers and
// version numbers, which need no escapes.
std::optional<std::string> unquoted(const std::string& s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"' || s.find('\\') != std::string::npos) return std::nullopt;
    return s.substr(1, s.size() - 2);
}

} // namespace

std::optional<SplitConfig> split_config(const std::string& config_toml) {
    SplitConfig out;
    bool seeded = false;
    for (size_t at = 0; at < config_toml.size();) {
        size_t end = config_toml.find('\n', at);
        if (end == std::string::npos) end = config_toml.size();
        const std::string line = config_toml.substr(at, end - at);
        at = end + 1;
        auto value = [&](const char* key) -> std::optional<std::string> {
            const std::string prefix = std::string(key) + " = ";
            if (line.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
            return line.substr(prefix.size());
        };
        if (line.empty()) continue;
        if (auto seed = value("seed"); seed && !seeded && out.parts.empty()) {
            out.seed = std::strtoll(seed->c_str(), nullptr, 10);
            seeded = true;
        } else if (line == "[[metric]]") {
            out.parts.push_back({"metric", "", "", {}});
        } else if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
            out.parts.push_back({line.substr(1, line.size() - 2), "", "", {}});
        } else if (out.parts.empty()) {
            return std::nullopt;
        } else if (auto plugin = value("plugin")) {
            if (!(plugin = unquoted(*plugin))) return std::nullopt;
            out.parts.back().plugin = *plugin;
        } else if (auto version = value("version")) {
            if (!(version = unquoted(*version))) return std::nullopt;
            out.parts.back().version = *version;
        } else if (auto params = value("params");
                   params && params->size() >= 2 && params->front() == '{' && params->back() == '}') {
            for (const auto& item : inline_items(params->substr(1, params->size() - 2))) {
                size_t eq = item.find(" = ");
                if (eq == std::string::npos) return std::nullopt;
                out.parts.back().params[trimmed(item.substr(0, eq))] = trimmed(item.substr(eq + 3));
            }
        } else {
            return std::nullopt;
        }
    }
    if (!seeded) return std::nullopt;
    return out;
}

} // namespace iclr
