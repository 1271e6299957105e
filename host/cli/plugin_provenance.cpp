// Stale plugin builds and arms' differing defaults named before a sweep runs; plugins' git state outside iclr's tree.
#include "cli/plugin_provenance.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "common/nearest_name.hpp"

namespace iclr {
namespace {

// Every distinct plugin record the sweep's arms use.
std::set<const PluginRecord*> used_plugins(const SweepArms& arms) {
    std::set<const PluginRecord*> used;
    for (const auto& per_arm : arms.plugins)
        used.insert(per_arm.begin(), per_arm.end());
    return used;
}

// `dir` is in the git repository of iclr's tree: under `tree`, and no folder between them holds a
// repository of its own (a plugin project cloned or built inside the tree, say under build/).
bool in_iclr_repo(const std::string& dir, const std::string& tree) {
    if (tree.empty()) return false;
    std::error_code ec;
    auto d = std::filesystem::weakly_canonical(dir, ec), t = std::filesystem::weakly_canonical(tree, ec);
    if (std::mismatch(t.begin(), t.end(), d.begin(), d.end()).first != t.end()) return false;
    for (; d != t && d.has_relative_path(); d = d.parent_path())
        if (std::filesystem::exists(d / ".git", ec)) return false;
    return true;
}

} // namespace

void warn_stale_plugins(const SweepArms& arms, const std::string& what) {
    for (const PluginRecord* r : used_plugins(arms))
        if (r && r->stale)
            fmt::print("warning: {} '{}' ({}) is older than its sources in {}: {} as built, not the code as it reads "
                       "now; rebuild it first (`iclr plugins` marks it stale)\n",
                       kind_name(r->kind), r->name, r->file, r->source_dir, what);
}

void note_unstated_differences(const SweepArms& arms) {
    std::vector<std::string> keys = arms.unstated_differences();
    if (keys.empty()) return;
    std::string list;
    for (const auto& k : keys)
        list += (list.empty() ? "" : ", ") + k;
    fmt::print("note: the arms leave {} parameter(s) to their plugins' defaults, which differ between them: {}; "
               "state them in the sweep (in the section, or in each arm) if the comparison should not rest on "
               "them\n",
               keys.size(), list);
}

void note_unread_pretrain(const SweepArms& arms) {
    std::set<std::string> readers, others;
    for (size_t k = 0; k < arms.specs.size(); ++k) {
        const auto& sections = arms.specs[k].sections;
        auto role = [&](const char* r) {
            return std::find_if(sections.begin(), sections.end(), [&](const SectionSpec& s) { return s.role == r; });
        };
        auto method = role("method");
        if (role("pretrain") == sections.end() || method == sections.end()) continue;
        const PluginRecord* r = arms.plugins[k][size_t(method - sections.begin())];
        if (r) (r->reads_pretrain ? readers : others).insert(r->name);
    }
    if (others.empty()) return;
    const std::string names = names_list({others.begin(), others.end()});
    const bool one = others.size() == 1;
    if (readers.empty())
        fmt::print("warning: no method of the sweep reads [pretrain] ({}): no trial pretrains on it, and every "
                   "trial leaves it out\n",
                   names);
    else
        fmt::print("note: method{} {} {} not read [pretrain]: {} trials leave it out (their keys do not change with "
                   "it)\n",
                   one ? "" : "s", names, one ? "does" : "do", one ? "its" : "their");
}

std::map<std::string, GitState> outside_plugin_git(const SweepArms& arms, const std::string& iclr_tree) {
    std::map<std::string, GitState> git;
    // Untracked files count where a build reads them (as `iclr plugins` judges staleness), not a
    // database or logs a user keeps beside the sources. As git pathspecs a "*" crosses folders.
    std::vector<std::string> untracked;
    for (const auto& p : build_input_patterns()) {
        untracked.push_back(p);
        if (p[0] != '*') untracked.push_back("*/" + p);
    }
    for (const PluginRecord* r : used_plugins(arms)) {
        if (!r || r->source_dir.empty() || git.count(r->source_dir) || in_iclr_repo(r->source_dir, iclr_tree)) continue;
        std::error_code ec;
        if (!std::filesystem::is_directory(r->source_dir, ec)) continue;
        GitState g = git_state(r->source_dir, untracked);
        if (!g.commit.empty()) git[r->source_dir] = g;
    }
    return git;
}

} // namespace iclr
