// One writer per database: a lock on the database file itself, whatever path reaches it.
#pragma once

#include <string>

namespace iclr {

class RunLock {
  public:
    // Locks the database file (creating it, empty, if it does not exist) and notes the holder
    // (pid, sweep) in "<real path>.lock" for the message a second run gets. Throws UserError
    // naming the holder when another iclr run holds the file, through this path or any other
    // (a symlink, a hard link, another host on a shared file system).
    RunLock(const std::string& db_path, const std::string& sweep_name);
    ~RunLock();
    // The run holding the database now ("pid 123, sweep x"), or "" when none does; takes nothing.
    static std::string holder(const std::string& db_path);
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

  private:
    int fd_ = -1;           // the database file, holding the lock
    std::string note_path_; // "<real path>.lock"
};

} // namespace iclr
