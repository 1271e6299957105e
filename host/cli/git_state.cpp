// git rev-parse / status in a child process (a missing git or a tree without .git is "unknown").
#include "cli/git_state.hpp"

#include "common/process.hpp"

namespace iclr {

GitState git_state(const std::string& dir) {
    GitState g;
    if (dir.empty()) return g;
    Captured head = run_capture({"/usr/bin/env", "git", "-C", dir, "rev-parse", "HEAD"}, true);
    if (head.status != 0) return g;
    g.commit = head.out.substr(0, head.out.find('\n'));
    // Dirty: a tracked file changed anywhere, or an untracked file where code lives (a new
    // plugin's source is untracked until it is committed, and it made the results).
    Captured tracked =
        run_capture({"/usr/bin/env", "git", "-C", dir, "status", "--porcelain", "--untracked-files=no"}, true);
    Captured untracked = run_capture({"/usr/bin/env", "git", "-C", dir, "status", "--porcelain",
                                      "--untracked-files=all", "--", "plugins", "sdk", "host"},
                                     true);
    if (tracked.status == 0 && untracked.status == 0) g.dirty = tracked.out.empty() && untracked.out.empty() ? 0 : 1;
    return g;
}

} // namespace iclr
