// What the host knows about one plugin file: metadata and schema, or why it is broken.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "iclr/abi.h"
#include "iclr/params.hpp"

namespace iclr {

struct ParamSchema {
    std::string name;
    iclr_param_type type = ICLR_PARAM_INT;
    std::string default_toml;
    Value default_value;
    double min = 1, max = 0; // a range applies when min <= max
    std::vector<std::string> choices;
    std::string help;

    bool has_range() const { return min <= max; }
};

struct PluginRecord {
    std::string file;
    // What the manifest cache compares. ctime and inode as well as size and mtime: a same-size
    // patched library with its mtime set back still has a new ctime (no call sets it), and a
    // replaced one a new inode, so a cached SHA-256 is never another file's.
    int64_t file_size = 0;
    int64_t file_mtime_ns = 0;
    int64_t file_ctime_ns = 0;
    int64_t file_inode = 0;
    std::string sha256;

    bool ok = false;
    std::string error; // one line: why it is broken

    iclr_kind kind = ICLR_KIND_METHOD;
    std::string name, version, citation, summary;
    uint32_t abi_major = 0, abi_minor = 0;
    std::string compiler, torch_version;
    int cxx11_abi = -1;
    std::vector<ParamSchema> params;
    std::string source_dir;     // where the plugin was built from (ABI 1.2+); "" when unknown
    bool stale = false;         // a file in source_dir is newer than the library: rebuild it
    bool reads_pretrain = true; // a method that reads the sweep's [pretrain] (ABI 2.13's flag; older: yes)

    const ParamSchema* param(const std::string& key) const {
        for (const auto& p : params)
            if (p.name == key) return &p;
        return nullptr;
    }
    std::string id() const; // "methods/finetune"
};

const char* kind_name(iclr_kind k);                            // "method"
const char* kind_folder(iclr_kind k);                          // "methods"
std::optional<iclr_kind> kind_from_name(const std::string& s); // accepts "method" or "methods"
const char* param_type_name(iclr_param_type t);

// The manifest format (TOML), shared by the probe subprocess's output and the on-disk cache.
std::string records_to_toml(const std::vector<PluginRecord>& records);
std::vector<PluginRecord> records_from_toml(const std::string& text);

} // namespace iclr
