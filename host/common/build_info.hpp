// Which build of iclr this is: the version and the commit its source tree was at when built.
#pragma once

namespace iclr {

// "0.1.0+104725d3c0de", "0.1.0+104725d3c0de.dirty.5e0c1a9b" (the tree had uncommitted changes
// when built; the hash tells two such builds apart), or "0.1.0" (built outside a git checkout).
// Recorded with every sweep invocation and verdict: the runs' git_commit is the tree's state when
// the sweep started, which need not be what the binary was built from. Defined in the file
// cmake/build_info.cmake generates at every build.
const char* iclr_build();

} // namespace iclr
