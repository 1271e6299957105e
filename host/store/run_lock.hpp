// One writer per database: an flock on "<db>.lock" that names its holder (pid, sweep).
#pragma once

#include <string>

namespace iclr {

class RunLock {
  public:
    // Throws UserError naming the holder when another iclr run holds the database.
    RunLock(const std::string& db_path, const std::string& sweep_name);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

  private:
    int fd_ = -1;
};

} // namespace iclr
