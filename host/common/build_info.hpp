// Which build of iclr this is: the version, the commit its source tree was at when built, and where.
#pragma once

namespace iclr {

// "0.1.0+104725d3c0de", "0.1.0+104725d3c0de.dirty.5e0c1a9b" (the tree had uncommitted changes
// when built; the hash tells two such builds apart), or "0.1.0" (built outside a git checkout).
// Recorded with every sweep invocation and verdict: the runs' git_commit is the tree's state when
// the sweep started, which need not be what the binary was built from. Defined in the file
// cmake/build_info.cmake generates at every build.
const char* iclr_build();

// The source tree this build was made from (CMake's source folder), whose git state a run records.
// Here rather than a -D flag, so that no object of the host holds a path: ccache then shares them
// between checkouts (CMakeLists.txt).
const char* iclr_source_tree();

} // namespace iclr
