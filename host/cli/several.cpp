// What the commands that take several sweep files say of the sweeps they skip.
#include "cli/several.hpp"

#include <fmt/core.h>

namespace iclr {

std::vector<std::string> passed_over(const std::map<std::string, std::vector<std::string>>& sweeps_by_reason) {
    std::vector<std::string> out;
    for (const auto& [why, sweeps] : sweeps_by_reason) {
        std::string names;
        for (const std::string& s : sweeps)
            names += (names.empty() ? "" : ", ") + s;
        out.push_back(fmt::format("{} sweep(s) passed over, {}: {}", sweeps.size(), why, names));
    }
    return out;
}

} // namespace iclr
