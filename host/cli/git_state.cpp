// git rev-parse / status in a child process (a missing git or a tree without .git is "unknown").
#include "cli/git_state.hpp"

#include "common/process.hpp"

namespace iclr {

namespace {

std::string commit_at(const std::string& dir) {
    if (dir.empty()) return "";
    Captured head = run_capture({"/usr/bin/env", "git", "-C", dir, "rev-parse", "HEAD"}, true);
    return head.status == 0 ? head.out.substr(0, head.out.find('\n')) : "";
}

} // namespace

GitState git_state(const std::string& dir, const std::vector<std::string>& untracked_in) {
    GitState g;
    g.commit = commit_at(dir);
    if (g.commit.empty()) return g;
    Captured tracked =
        run_capture({"/usr/bin/env", "git", "-C", dir, "status", "--porcelain", "--untracked-files=no"}, true);
    std::vector<std::string> untracked_cmd{"/usr/bin/env",          "git", "-C", dir, "status", "--porcelain",
                                           "--untracked-files=all", "--"};
    untracked_cmd.insert(untracked_cmd.end(), untracked_in.begin(), untracked_in.end());
    Captured untracked = run_capture(untracked_cmd, true);
    if (tracked.status == 0 && untracked.status == 0) g.dirty = tracked.out.empty() && untracked.out.empty() ? 0 : 1;
    return g;
}

const std::string& source_commit() {
    static const std::string commit = commit_at(iclr_source_tree()); // the tree does not move under one command
    return commit;
}

} // namespace iclr
