// The database lock: an open-file-description (OFD) write lock on one byte of the database file.
// It belongs to the file (its inode), not to the path, so a symlink or a hard link reaches the
// same lock; the kernel drops it when the holder dies, even by kill -9; NFS forwards it to the
// server. The byte lies in SQLite's lock page, past the bytes SQLite itself locks (0x40000000 +
// 0..511), so the two never interfere; OFD locks are also untouched when SQLite closes its own
// descriptor of the file (a classic POSIX-lock trap).
#include "store/run_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/errors.hpp"

namespace iclr {
namespace {

constexpr off_t kLockByte = 0x40000000 + 0x800;

std::string read_note(const std::string& path) {
    std::ifstream in(path);
    std::string holder;
    std::getline(in, holder);
    return holder.empty() ? "holder unknown" : holder;
}

} // namespace

RunLock::RunLock(const std::string& db_path, const std::string& sweep_name) {
    std::error_code ec;
    auto parent = std::filesystem::path(db_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    // O_NONBLOCK: a FIFO at the path must not hang the open (it is refused just below).
    fd_ = open(db_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd_ < 0) throw UserError(db_path + ": cannot open the database for writing: " + std::strerror(errno));
    struct stat st;
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd_);
        fd_ = -1;
        throw UserError(db_path + ": not a regular file, so not a results database");
    }
    auto real = std::filesystem::canonical(db_path, ec);
    note_path_ = (ec ? std::filesystem::path(db_path) : real).string() + ".lock";
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = kLockByte;
    fl.l_len = 1;
    if (fcntl(fd_, F_OFD_SETLK, &fl) != 0) {
        int err = errno;
        close(fd_);
        fd_ = -1;
        if (err != EAGAIN && err != EACCES)
            throw UserError(db_path + ": cannot lock the database: " + std::strerror(err));
        throw UserError(db_path + " is in use by another iclr run (" + read_note(note_path_) +
                        "); wait for it to finish or pass --db to write elsewhere");
    }
    std::ofstream(note_path_, std::ios::trunc) << "pid " << getpid() << ", sweep " << sweep_name << "\n";
}

std::string RunLock::holder(const std::string& db_path) {
    int fd = open(db_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return "";
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = kLockByte;
    fl.l_len = 1;
    bool held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    if (!held) return "";
    std::error_code ec;
    auto real = std::filesystem::canonical(db_path, ec);
    return read_note((ec ? std::filesystem::path(db_path) : real).string() + ".lock");
}

RunLock::~RunLock() {
    if (fd_ < 0) return;
    std::error_code ec;
    std::filesystem::remove(note_path_, ec);
    close(fd_); // releases the OFD lock
}

} // namespace iclr
