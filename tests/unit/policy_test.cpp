// The scheduler's decisions, without processes: pool size, timeouts, what a dead worker's trial becomes.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include "exec/policy.hpp"

using namespace iclr;
using namespace iclr::policy;

namespace {
// waitpid statuses as the kernel encodes them.
int exited(int code) { return code << 8; }
int killed_by(int sig) { return sig; }
} // namespace

TEST(Policy, StatusEncodingMatchesTheKernelsMacros) {
    EXPECT_TRUE(WIFEXITED(exited(3)));
    EXPECT_EQ(WEXITSTATUS(exited(3)), 3);
    EXPECT_TRUE(WIFSIGNALED(killed_by(SIGSEGV)));
    EXPECT_EQ(WTERMSIG(killed_by(SIGSEGV)), SIGSEGV);
}

TEST(Policy, StartsWorkersUpToTheTargetButNotBeyondTheWork) {
    EXPECT_EQ(workers_to_start(0, 0, 100, 2), 2u); // start of a sweep
    EXPECT_EQ(workers_to_start(0, 0, 1, 2), 1u);   // one trial: one worker
    EXPECT_EQ(workers_to_start(2, 2, 50, 2), 0u);  // full pool
    EXPECT_EQ(workers_to_start(1, 1, 50, 2), 1u);  // a worker died: replaced
    EXPECT_EQ(workers_to_start(1, 1, 0, 2), 0u);   // nothing left to hand out
    EXPECT_EQ(workers_to_start(2, 0, 0, 2), 0u);   // never negative
    EXPECT_EQ(workers_to_start(0, 0, 0, 4), 0u);
}

TEST(Policy, TimeoutOnlyWhenOneIsSetAndPassed) {
    EXPECT_FALSE(past_timeout(1e9, 0)); // 0 = no timeout
    EXPECT_FALSE(past_timeout(10.0, 10.0));
    EXPECT_TRUE(past_timeout(10.5, 10.0));
}

TEST(Policy, AWorkerKilledForTheTimeoutRecordsTimeout) {
    RunEnd e = outcome_of({killed_by(SIGKILL), true, 0, 90, ""});
    EXPECT_EQ(e.status, RunStatus::Timeout);
    EXPECT_EQ(e.error, "exceeded the trial timeout of 1m30s; worker killed");
    EXPECT_EQ(e.signal, SIGKILL);
    EXPECT_FALSE(e.exit_code.has_value());
}

TEST(Policy, AWorkerStoppedByTheUserRecordsInterrupted) {
    RunEnd e = outcome_of({killed_by(SIGKILL), false, SIGINT, 0, ""});
    EXPECT_EQ(e.status, RunStatus::Interrupted);
    EXPECT_EQ(e.error, "stopped by SIGINT");
    // the timeout wins when both happened: the trial had already overrun
    EXPECT_EQ(outcome_of({killed_by(SIGKILL), true, SIGTERM, 5, ""}).status, RunStatus::Timeout);
}

TEST(Policy, AWorkerThatDiedOnItsOwnRecordsFailedWithTheCause) {
    RunEnd crash = outcome_of({killed_by(SIGSEGV), false, 0, 0, ""});
    EXPECT_EQ(crash.status, RunStatus::Failed);
    EXPECT_EQ(crash.error, "worker died: signal 11 (SIGSEGV)");
    EXPECT_EQ(crash.signal, SIGSEGV);
    RunEnd exit3 = outcome_of({exited(3), false, 0, 0, ""});
    EXPECT_EQ(exit3.status, RunStatus::Failed);
    EXPECT_EQ(exit3.error, "worker died: exit 3");
    EXPECT_EQ(exit3.exit_code, 3);
    EXPECT_FALSE(exit3.signal.has_value());
}

TEST(Policy, AWorkerKilledForItsRecordChannelRecordsFailedWithThatReason) {
    RunEnd e = outcome_of({killed_by(SIGKILL), false, 0, 0, "the worker closed its record channel"});
    EXPECT_EQ(e.status, RunStatus::Failed);
    EXPECT_EQ(e.error, "the worker closed its record channel; worker killed");
    // The user stopping the sweep, or the timeout, still names the end.
    EXPECT_EQ(outcome_of({killed_by(SIGKILL), false, SIGINT, 0, "x"}).status, RunStatus::Interrupted);
    EXPECT_EQ(outcome_of({killed_by(SIGKILL), true, 0, 5, "x"}).status, RunStatus::Timeout);
}

// jobs = "auto"'s tail: three equal trials on two cores take two rounds one thread each, or one
// round and a trial on both cores (1 + 1/1.3 rounds); a short last trial beside a long one is
// better left on its own core than kept waiting for it.
TEST(Policy, TheLastTrialsTakeTheIdleCoresOnlyWhenThatEndsSooner) {
    EXPECT_EQ(policy::tail_trials({5, 5, 5}, 2, 2), 1u);
    EXPECT_EQ(policy::tail_trials({0, 0, 0, 0, 0}, 2, 2), 1u); // no estimates: taken as equal
    EXPECT_EQ(policy::tail_trials({5, 5, 5, 5}, 2, 2), 0u);    // no idle core
    EXPECT_EQ(policy::tail_trials({20, 5, 1}, 2, 2), 0u);      // the 1 runs beside the 20, and ends first
    EXPECT_EQ(policy::tail_trials({5, 5, 5}, 1, 2), 0u);       // one worker: nothing is idle beside it
    EXPECT_EQ(policy::tail_trials({}, 2, 2), 0u);
    // Four cores, seven trials: three left, one thread each would be all they get (4 / 3 = 1).
    EXPECT_EQ(policy::tail_trials(std::vector<float>(7, 5), 4, 4), 0u);
    // Four cores, five equal trials: the fifth gets all four (1 + 6/(1 + 3 x 0.3) < 2 rounds).
    EXPECT_EQ(policy::tail_trials(std::vector<float>(5, 5), 4, 4), 1u);
    // Two left of six on four cores: two threads each (1 + 6/1.3 = 5.6 < 12 units).
    EXPECT_EQ(policy::tail_trials(std::vector<float>(6, 5), 4, 4), 2u);
}
