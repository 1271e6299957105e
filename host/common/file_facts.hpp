// What identifies a file's contents without reading them: size, modification and change times, inode.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace iclr {

// ctime and inode as well as size and mtime: a same-size file rewritten with its mtime set back
// still has a new ctime (no call sets it), and a file replaced by rename has a new inode.
struct FileFacts {
    int64_t size = 0, mtime_ns = 0, ctime_ns = 0, inode = 0;
    bool operator==(const FileFacts&) const = default;
    std::string text() const; // "size mtime ctime inode"
};

// All zero when the file cannot be read (links are followed).
FileFacts file_facts(const std::filesystem::path& file);

// Every regular file under dir (links followed, hidden files included), one line each: its path
// relative to dir, its size and its modification time, sorted by path. A file added, removed or
// rewritten changes it; a copy of the folder that kept the times (cp -p, rsync -a: a node-local
// copy of shared data) gives the same text, as make would judge it. "" when dir cannot be read.
std::string folder_facts(const std::filesystem::path& dir);

} // namespace iclr
