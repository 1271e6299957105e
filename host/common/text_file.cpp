// Size-capped whole-file read that refuses what is not a readable regular file.
#include "common/text_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace iclr {

std::optional<std::string> read_text_file(const std::string& path, size_t max_bytes) {
    // O_NONBLOCK: a FIFO or device that slipped past the check below cannot hang the open.
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return std::nullopt;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return std::nullopt;
    }
    // Read to the end rather than trusting st_size (files under /proc say 0), stopping past the
    // cap; a read error (EIO from /proc/self/mem) is a failure, not an empty file.
    std::string text;
    char buf[65536];
    while (text.size() <= max_bytes) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        text.append(buf, size_t(n));
    }
    close(fd);
    if (text.size() > max_bytes) return std::nullopt;
    return text;
}

} // namespace iclr
