// What the commands that take several sweep files share.
#include "cli/several.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "common/errors.hpp"
#include "common/results_layout.hpp"

namespace iclr {

int each_sweep(const std::vector<std::string>& files, const std::function<int(const std::string&)>& one,
               std::vector<std::string>* failed) {
    int exit = 0;
    for (size_t i = 0; i < files.size(); ++i) {
        if (i) fmt::print("\n");
        try {
            exit = std::max(exit, one(files[i]));
            continue;
        } catch (const UserError& e) {
            print_error(e);
        }
        exit = 2;
        if (failed) failed->push_back(files[i]);
    }
    return exit;
}

void once_each(std::vector<std::string>& files) {
    std::set<std::string> seen;
    std::vector<std::string> once;
    for (const std::string& f : files) {
        std::error_code ec;
        auto real = std::filesystem::weakly_canonical(f, ec);
        if (seen.insert(ec ? absolute_path(f) : real.string()).second)
            once.push_back(f);
        else
            fmt::print(stderr, "iclr: note: {} is named more than once; taken once\n", f);
    }
    files = std::move(once);
}

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
