// Linked into every test binary: no test may leave a process behind. The test process adopts
// orphans (PR_SET_CHILD_SUBREAPER), so whatever an iclr command or a plugin leaves running comes
// here instead of to init; after the test, any child still running fails it, and is killed.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/process.hpp"
#include "common/text_file.hpp"

namespace {

std::string command_line(int pid) {
    auto text = iclr::read_text_file("/proc/" + std::to_string(pid) + "/cmdline", 1 << 20);
    if (!text) return "(exited)"; // a process exiting mid-read fails the read (ESRCH)
    std::string s = *text;
    for (char& c : s)
        if (c == '\0') c = ' ';
    return s;
}

class OrphanCheck : public ::testing::Environment {
  public:
    void SetUp() override { prctl(PR_SET_CHILD_SUBREAPER, 1); }
    void TearDown() override {
        // A process killed a moment ago may still be on its way out: give it a second.
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        std::vector<iclr::ChildProcess> live;
        while (true) {
            live.clear();
            for (auto c : iclr::child_processes()) {
                if (c.zombie) {
                    int st;
                    waitpid(c.pid, &st, 0);
                } else {
                    live.push_back(c);
                }
            }
            if (live.empty() || std::chrono::steady_clock::now() > end) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        for (auto c : live) {
            ADD_FAILURE() << "a process outlived the test: pid " << c.pid << " (" << command_line(c.pid) << ")";
            kill(c.pid, SIGKILL);
            int st;
            waitpid(c.pid, &st, 0);
        }
    }
};

[[maybe_unused]] testing::Environment* const kOrphanCheck = testing::AddGlobalTestEnvironment(new OrphanCheck);

} // namespace
