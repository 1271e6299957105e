// The run queue's order: longest first, and equal trials spread over their shared stages so the
// first workers build different cached stages instead of queueing on one's lock.
#include <gtest/gtest.h>

#include "cli/run_plan.hpp"

using namespace iclr;

TEST(RunOrder, LongestFirstThenRoundRobinOverSharedStages) {
    // Grid order: family A's three seeds, then family B's three; two slow trials of B at the end.
    std::vector<float> cost{1, 1, 1, 1, 1, 1, 2, 2};
    std::vector<std::string> group{"A", "A", "A", "B", "B", "B", "B", "B"};
    EXPECT_EQ(run_order(cost, group), (std::vector<size_t>{6, 7, 0, 3, 1, 4, 2, 5}));
}

TEST(RunOrder, OneGroupKeepsTheGridOrderAmongEquals) {
    std::vector<float> cost{1, 3, 1, 2, 3};
    std::vector<std::string> group(5, "only");
    EXPECT_EQ(run_order(cost, group), (std::vector<size_t>{1, 4, 3, 0, 2}));
}

TEST(RunOrder, GroupsOfUnequalSizeInterleaveUntilTheSmallerRunsOut) {
    std::vector<float> cost(5, 1);
    std::vector<std::string> group{"A", "A", "A", "A", "B"};
    EXPECT_EQ(run_order(cost, group), (std::vector<size_t>{0, 4, 1, 2, 3}));
    EXPECT_TRUE(run_order({}, {}).empty());
}
