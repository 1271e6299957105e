// The artifact cache folder as files: entries by last use, pruned under the workers' own locks.
#include "cache/artifact_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/errors.hpp"

namespace iclr {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kLock = ".lock", kTemporary = ".tmp."; // as cache.hpp and data_cache.cpp name them
constexpr const char* kLimitFile = "limit";

bool is_lock(const std::string& name) {
    return name.size() > kLock.size() && name.compare(name.size() - kLock.size(), kLock.size(), kLock) == 0;
}

// A lock on an entry (its <file>.lock, as the workers take it), taken without waiting.
class EntryLock {
  public:
    explicit EntryLock(const fs::path& file) : lock_path_(file.string() + std::string(kLock)) {
        fd_ = open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) throw HostError("cache: cannot open " + lock_path_ + ": " + std::strerror(errno));
        held_ = flock(fd_, LOCK_EX | LOCK_NB) == 0;
    }
    ~EntryLock() { close(fd_); }
    EntryLock(const EntryLock&) = delete;
    EntryLock& operator=(const EntryLock&) = delete;
    bool held() const { return held_; }
    // The lock file goes with its entry. A worker that opened it before still waits on it and then
    // finds no entry, so it computes the stage again, as after any prune.
    void remove_file() const { (void)unlink(lock_path_.c_str()); }

  private:
    std::string lock_path_;
    int fd_ = -1;
    bool held_ = false;
};

double seconds(const timespec& t) { return double(t.tv_sec) + double(t.tv_nsec) * 1e-9; }

std::optional<CacheEntry> entry_of(const fs::path& dir, const fs::directory_entry& f) {
    const std::string name = f.path().filename().string();
    struct stat st {};
    const fs::path rel = f.path().lexically_relative(dir);
    if (rel.parent_path().empty() || is_lock(name) || name.find(kTemporary) != std::string::npos ||
        stat(f.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    CacheEntry e;
    e.kind = rel.begin()->string();
    e.key = f.path().stem().string();
    e.file = f.path();
    e.bytes = uintmax_t(st.st_blocks) * 512;
    e.last_used = std::max(seconds(st.st_atim), seconds(st.st_mtim));
    return e;
}

// Calls f on every file and folder under dir; a folder that cannot be read ends the walk quietly
// (a cache that does not exist yet holds nothing).
template <class F> void walk(const fs::path& dir, F f) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        f(*it);
}

// Temporaries whose writer is gone (its lock is free): a killed worker's half-written file.
int remove_temporaries(const fs::path& dir, bool dry_run) {
    int n = 0;
    walk(dir, [&](const fs::directory_entry& f) {
        const std::string name = f.path().filename().string();
        const size_t at = name.find(kTemporary);
        std::error_code ec;
        if (at == std::string::npos || is_lock(name) || !f.is_regular_file(ec)) return;
        EntryLock lock(f.path().parent_path() / name.substr(0, at));
        if (!lock.held()) return; // its writer is still at it
        if (!dry_run) fs::remove(f.path(), ec);
        ++n;
    });
    return n;
}

// Which entries the rule picks, least recently used first. Both age and size pick a prefix of
// `entries` (they are in order of last use), so the first entry neither picks ends the choice.
std::vector<CacheEntry> choose(const std::vector<CacheEntry>& entries, const PruneRule& rule, std::time_t now) {
    uintmax_t left = 0;
    for (const auto& e : entries)
        left += e.bytes;
    std::vector<CacheEntry> out;
    for (const auto& e : entries) {
        const bool old = rule.older_than_s && double(now) - e.last_used > *rule.older_than_s;
        if (!rule.all && !old && !(rule.max_bytes && left > *rule.max_bytes)) break;
        out.push_back(e);
        left -= e.bytes;
    }
    return out;
}

} // namespace

std::vector<CacheEntry> list_cache(const fs::path& dir) {
    std::vector<CacheEntry> out;
    walk(dir, [&](const fs::directory_entry& f) {
        if (auto e = entry_of(dir, f)) out.push_back(std::move(*e));
    });
    std::sort(out.begin(), out.end(), [](const CacheEntry& a, const CacheEntry& b) {
        return a.last_used != b.last_used ? a.last_used < b.last_used : a.file < b.file;
    });
    return out;
}

PruneResult prune_cache(const fs::path& dir, const PruneRule& rule, std::time_t now) {
    PruneResult r;
    for (const auto& e : choose(list_cache(dir), rule, now)) {
        EntryLock lock(e.file);
        if (!lock.held()) {
            r.busy.push_back(e);
            continue;
        }
        if (!rule.dry_run) {
            std::error_code ec;
            if (!fs::remove(e.file, ec) && ec)
                throw HostError("cache: cannot remove " + e.file.string() + ": " + ec.message());
            lock.remove_file();
        }
        r.bytes_removed += e.bytes;
        r.removed.push_back(e);
    }
    r.temporaries_removed = remove_temporaries(dir, rule.dry_run);
    return r;
}

std::optional<uintmax_t> read_limit(const fs::path& dir) {
    const fs::path file = dir / kLimitFile;
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::string text;
    std::getline(in, text);
    auto bytes = parse_size(text);
    if (!bytes)
        throw HostError(file.string() + ": '" + text +
                        "' is not a size; set the cache's limit with `iclr cache limit 20G` (or `none`)");
    return bytes;
}

void write_limit(const fs::path& dir, const std::optional<std::string>& text) {
    const fs::path file = dir / kLimitFile;
    std::error_code ec;
    if (!text) {
        if (!fs::remove(file, ec) && ec) throw HostError("cache: cannot remove " + file.string() + ": " + ec.message());
        return;
    }
    fs::create_directories(dir, ec);
    // Not named like a writer's temporary (<entry>.tmp.<pid>): prune would look for its entry's lock.
    const fs::path tmp = dir / (".limit." + std::to_string(getpid()));
    {
        std::ofstream out(tmp);
        out << *text << "\n";
        if (!out.flush()) throw HostError("cache: cannot write " + tmp.string());
    }
    fs::rename(tmp, file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw HostError("cache: cannot write " + file.string() + ": " + ec.message());
    }
}

std::optional<uintmax_t> parse_size(const std::string& text) {
    size_t used = 0;
    double x = 0;
    try {
        x = std::stod(text, &used);
    } catch (const std::exception&) { // not a number
        return std::nullopt;
    }
    std::string unit = text.substr(used); // K, KB, KiB, any case
    for (char& c : unit)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    if (unit.size() >= 2 && (unit.substr(1) == "ib" || unit.substr(1) == "b")) unit.resize(1);
    const size_t power = unit.size() > 1 ? std::string::npos : std::string("bkmgt").find(unit.empty() ? 'b' : unit[0]);
    if (power == std::string::npos || !(x >= 0) || !std::isfinite(x)) return std::nullopt;
    return uintmax_t(std::llround(x * std::pow(1024.0, double(power))));
}

std::string format_size(uintmax_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = double(bytes);
    int u = 0;
    while (x >= 1024 && u < 4) {
        x /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", x, units[u]);
    return buf;
}

} // namespace iclr
