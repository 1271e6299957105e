// File facts and folder facts: stat() only, so cheap enough to check before every reuse.
#include "common/file_facts.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

namespace iclr {

namespace fs = std::filesystem;

std::string FileFacts::text() const {
    return std::to_string(size) + " " + std::to_string(mtime_ns) + " " + std::to_string(ctime_ns) + " " +
           std::to_string(inode);
}

FileFacts file_facts(const fs::path& file) {
    struct stat st;
    if (stat(file.c_str(), &st) != 0) return {};
    return {int64_t(st.st_size), int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
            int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec, int64_t(st.st_ino)};
}

constexpr int kMaxDepth = 16;

std::string folder_facts(const fs::path& dir) {
    std::vector<std::string> lines;
    std::error_code ec;
    auto opts = fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied;
    for (fs::recursive_directory_iterator it(dir, opts, ec), end; it != end && !ec; it.increment(ec)) {
        if (it.depth() >= kMaxDepth) it.disable_recursion_pending(); // a link to a parent folder loops
        if (it->is_regular_file(ec)) {
            FileFacts f = file_facts(it->path());
            lines.push_back(it->path().lexically_relative(dir).string() + " " + std::to_string(f.size) + " " +
                            std::to_string(f.mtime_ns) + "\n");
        }
    }
    std::sort(lines.begin(), lines.end());
    std::string text;
    for (const auto& l : lines)
        text += l;
    return text;
}

} // namespace iclr
