// Plugin discovery: scan the search path, reuse the manifest cache, probe new files out of process.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plugin/plugin_record.hpp"

namespace iclr {

// The files a plugin's build reads, as file-name patterns: sources, headers and CMake files, not
// documentation (editing a plugin's README does not make its library stale).
const std::vector<std::string>& build_input_patterns();

class PluginRegistry {
  public:
    // The plugin folder next to the executable (build/plugins, or PREFIX/lib/iclr/plugins when
    // installed), then each folder of ICLR_PLUGIN_PATH (colon-separated).
    static std::vector<std::filesystem::path> default_search_path();
    // Where the manifest cache lives: ICLR_CACHE_DIR, else $XDG_CACHE_HOME/iclr, else ~/.cache/iclr.
    static std::filesystem::path cache_root();

    // probe_exe: the iclr binary whose `__probe` command loads new plugin files (tests pass it).
    explicit PluginRegistry(std::vector<std::filesystem::path> dirs = default_search_path(),
                            std::string probe_exe = "");
    // A registry over known records, without touching the file system (tests, tools).
    static PluginRegistry with_records(std::vector<PluginRecord> records);

    // Files whose size and mtime match the manifest this build of iclr wrote (a rebuilt iclr
    // probes everything again) are not opened at all, so listing and
    // planning never pay libtorch's load; new or changed files are probed in a child process,
    // so a plugin that crashes while loading is reported broken instead of taking iclr down.
    void discover();

    const std::vector<PluginRecord>& records() const { return records_; }
    // The folders discover() searches, in order.
    const std::vector<std::filesystem::path>& search_path() const { return dirs_; }
    // For a plugin found nowhere: "; searched A, B", and without ICLR_PLUGIN_PATH how a plugin
    // built outside this tree is found.
    std::string where_searched() const;
    // The first plugin of this kind and name in search order, working or broken; null if none.
    const PluginRecord* find(iclr_kind kind, const std::string& name) const;
    // Accepts "methods/finetune", "method/finetune" or a bare unique "finetune".
    std::vector<const PluginRecord*> lookup(const std::string& spec) const;

  private:
    std::vector<std::filesystem::path> dirs_;
    std::string probe_exe_;
    std::vector<PluginRecord> records_;
};

// Entry of the hidden `iclr __probe FILE...` command: loads each file, prints its record.
int probe_main(const std::vector<std::string>& files);

} // namespace iclr
