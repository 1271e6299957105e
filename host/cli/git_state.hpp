// Provenance from git: the commit of the source tree iclr was built from, and whether it was dirty.
#pragma once

#include <string>
#include <vector>

#include "common/build_info.hpp"

namespace iclr {

struct GitState {
    std::string commit; // "" when unknown
    int dirty = -1;     // -1 unknown
};

// The commit checked out at `dir` and whether the work tree is dirty: a tracked file changed anywhere,
// or an untracked file under one of `untracked_in` (paths relative to dir; iclr's tree: where code
// lives, since a new plugin's source is untracked until it is committed, and it made the results).
GitState git_state(const std::string& dir = iclr_source_tree(),
                   const std::vector<std::string>& untracked_in = {"plugins", "sdk", "host"});

// Only the commit checked out at iclr's source tree ("" when unknown), asked once per process: what
// a verdict records, without the two walks of the tree `git status` makes for git_state's `dirty`.
const std::string& source_commit();

} // namespace iclr
