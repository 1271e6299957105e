// The database lock. flock is released by the kernel when the holder dies, even by kill -9,
// so a stale lock file never blocks the next run.
#include "store/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/errors.hpp"

namespace iclr {

RunLock::RunLock(const std::string& db_path, const std::string& sweep_name) {
    std::string path = db_path + ".lock";
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw HostError(path + ": cannot open lock file: " + std::strerror(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char buf[512] = {0};
        ssize_t n = pread(fd_, buf, sizeof buf - 1, 0);
        std::string holder = n > 0 ? std::string(buf, size_t(n)) : "unknown";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
            holder.pop_back();
        close(fd_);
        fd_ = -1;
        throw UserError(db_path + " is in use by another iclr run (" + holder +
                        "); wait for it to finish or pass --db to write elsewhere");
    }
    std::string me = "pid " + std::to_string(getpid()) + ", sweep " + sweep_name + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, me.data(), me.size(), 0) < 0) {
        // The lock holds without the note; only the message to a second run gets vaguer.
    }
}

RunLock::~RunLock() {
    if (fd_ >= 0) {
        if (ftruncate(fd_, 0) != 0) {
        }
        flock(fd_, LOCK_UN);
        close(fd_);
    }
}

} // namespace iclr
