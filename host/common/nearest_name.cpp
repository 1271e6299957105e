// Did-you-mean for a name a user typed: Levenshtein distance, nearest within two edits.
#include "common/nearest_name.hpp"

#include <algorithm>

namespace iclr {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

} // namespace

std::string did_you_mean(const std::string& name, const std::vector<std::string>& known) {
    std::string best;
    // Two edits turn a short name into nearly any other ("foo" into "pow"): one for up to four letters.
    size_t best_d = name.size() <= 4 ? 2 : 3;
    for (const auto& k : known)
        if (size_t d = edit_distance(name, k); d < best_d) {
            best_d = d;
            best = k;
        }
    return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string did_you_mean_or_all(const std::string& name, const std::vector<std::string>& known,
                                const std::string& what) {
    std::string near = did_you_mean(name, known);
    return near.empty() ? " (" + what + ": " + names_list(known) + ")" : near;
}

std::string names_list(const std::vector<std::string>& names) {
    std::string all;
    for (const auto& n : names)
        all += (all.empty() ? "" : ", ") + n;
    return all.empty() ? "none" : all;
}

} // namespace iclr
