// A trial's key (trial_key.hpp): the order of its metric parts, the hash, the JSON.
#include "common/trial_key.hpp"

#include <algorithm>
#include <numeric>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "common/file_hash.hpp"

namespace iclr {

std::vector<size_t> metric_key_order(const std::vector<std::string>& plugins) {
    std::vector<size_t> order(plugins.size());
    std::iota(order.begin(), order.end(), size_t(0));
    if (std::set<std::string>(plugins.begin(), plugins.end()).size() < plugins.size()) return order;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return plugins[a] < plugins[b]; });
    return order;
}

std::string config_in_key_order(const std::string& config_toml) {
    // canonical_config writes each metric as "\n[[metric]]\nplugin = \"NAME\"\n..." after every
    // other part, and a value on one line (a string's newline as \n): the blocks split at the marker.
    static const std::string kMarker = "\n[[metric]]\nplugin = \"";
    size_t first = config_toml.find(kMarker);
    if (first == std::string::npos) return config_toml;
    std::vector<std::string> blocks, names;
    for (size_t at = first; at != std::string::npos;) {
        size_t next = config_toml.find(kMarker, at + 1);
        blocks.push_back(config_toml.substr(at, next == std::string::npos ? std::string::npos : next - at));
        size_t name_at = at + kMarker.size(), quote = config_toml.find('"', name_at);
        if (quote == std::string::npos || (next != std::string::npos && quote > next)) return config_toml;
        names.push_back(config_toml.substr(name_at, quote - name_at));
        at = next;
    }
    std::string out = config_toml.substr(0, first);
    for (size_t i : metric_key_order(names))
        out += blocks[i];
    return out;
}

std::string trial_key(const std::string& config_toml) { return sha256_hex(config_toml).substr(0, 32); }

std::string config_json(const std::string& config_toml) {
    auto parsed = toml::parse(config_toml);
    if (!parsed) return "{}";
    std::ostringstream out;
    out << toml::json_formatter{parsed.table()};
    return out.str();
}

} // namespace iclr
