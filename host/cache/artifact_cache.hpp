// The artifact cache folder (results/cache/) as files: what it holds, and pruning it safely.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace iclr {

// One cached stage: cache/<kind>/<key><ext> (backbones/<key>.pt, data/<key>.data, ...). Workers
// take <file>.lock while they read or write it; writers fill <file>.tmp.<pid> and rename it.
struct CacheEntry {
    std::string kind; // the folder under cache/: "backbones", "data", ...
    std::string key;  // the file name without its extension: the content key
    std::filesystem::path file;
    uintmax_t bytes = 0;  // the disk it takes (allocated blocks: a punched file takes less than its size)
    double last_used = 0; // the later of its access and modification times, in seconds since the epoch to
                          // the file system's precision (entries of one run are ordered within a second)
};

// Every entry under dir, least recently used first; temporaries, lock files and files directly in
// dir (the limit) are not entries.
std::vector<CacheEntry> list_cache(const std::filesystem::path& dir);

// What to remove: entries last used before `older_than_s` ago, then, least recently used first,
// entries until the rest fit in `max_bytes`; everything when `all`. Leftover temporaries of writers
// that died always go.
struct PruneRule {
    std::optional<double> older_than_s;
    std::optional<uintmax_t> max_bytes;
    bool all = false;
    bool dry_run = false; // say what would go, remove nothing
};
struct PruneResult {
    std::vector<CacheEntry> removed; // or, with dry_run, what would be
    std::vector<CacheEntry> busy;    // chosen, but a worker holds its lock now: kept
    uintmax_t bytes_removed = 0;
    int temporaries_removed = 0;
};
// Each entry goes under its lock, taken without waiting: one a worker is reading or writing is
// kept and reported busy, so a running sweep never loses a file it has open or half-written.
PruneResult prune_cache(const std::filesystem::path& dir, const PruneRule& rule, std::time_t now);

// The cache's size limit (`iclr cache limit 20G`), kept as the file `limit` in the cache folder, so
// that every database and sweep sharing the cache keeps the same one; `iclr run` applies it (prunes
// least recently used entries until the rest fit) after each trial that wrote an entry (a backbone
// or a data set; a Slurm array task too) and when it ends. nullopt when none is set; a file that
// does not hold a size is a HostError naming it.
std::optional<uintmax_t> read_limit(const std::filesystem::path& dir);
// Sets the limit to `text` (a size as parse_size reads it, written as given) or, with nullopt,
// removes it. The file is replaced in one rename: a reader sees the old limit or the new one.
void write_limit(const std::filesystem::path& dir, const std::optional<std::string>& text);

// "500M", "2G", "1.5GiB", "4096" (bytes; K, M, G, T are powers of 1,024) in bytes; nullopt otherwise.
std::optional<uintmax_t> parse_size(const std::string& text);
// 1.9 GiB, 38.2 MiB, 512 B.
std::string format_size(uintmax_t bytes);

} // namespace iclr
