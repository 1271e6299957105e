// Provenance from git: the commit of the source tree iclr was built from, and whether it was dirty.
#pragma once

#include <string>

#ifndef ICLR_SOURCE_DIR
#define ICLR_SOURCE_DIR ""
#endif

namespace iclr {

struct GitState {
    std::string commit; // "" when unknown
    int dirty = -1;     // -1 unknown
};

GitState git_state(const std::string& dir = ICLR_SOURCE_DIR);

} // namespace iclr
