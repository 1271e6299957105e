// What makes a trial apart from its plugins' versions, or its seed: the canonical config text without them.
#include "common/trial_config.hpp"

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

} // namespace iclr
