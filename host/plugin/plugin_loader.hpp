// Loads one plugin library and checks its metadata: the four precise failure modes live here.
#pragma once

#include <string>

#include "iclr/abi.h"
#include "plugin/plugin_record.hpp"

namespace iclr {

struct LoadedPlugin {
    PluginRecord record;                    // record.ok == false: record.error says why
    const iclr_plugin_info* info = nullptr; // valid only when record.ok
};

// Never throws. The failure modes, each its own one-line message naming the file:
//   not a shared library / cannot open (dlerror) / no entry point / ABI or build mismatch /
//   bad metadata / init failed. Libraries are never unloaded (plugins hold torch state).
LoadedPlugin load_plugin(const std::string& file);

// Whether a method reads the sweep's [pretrain] (ICLR_FLAG_READS_PRETRAIN): what the host keys its
// trials by and the worker allows. A plugin built before ABI 2.13 carries no flags and is taken to.
bool reads_pretrain(const iclr_plugin_info& info);

// The host's expected build fingerprint (what plugins must match).
const char* host_torch_version();
int host_cxx11_abi();

} // namespace iclr
