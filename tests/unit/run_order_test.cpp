// The run queue's order: longest first by the sizes every trial has, and equal trials spread over
// their shared stages so the first workers build different cached stages instead of queueing on
// one's lock.
#include <gtest/gtest.h>

#include <cmath>

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

TEST(TrialCosts, ForTheEtaTheSumOfLogSizesOverTheSizesEveryTrialHasForTheQueueOverAll) {
    // Two widths; the second and third trials' method plugin has a buffer the first's lacks, and
    // the third has 0 distractors where the others have 24 (a 0 is left out of the sizes).
    std::vector<TrialSizes> sizes{
        {{"model.width", 64}, {"method.epochs", 2}, {"dataset.distractors", 24}},
        {{"model.width", 256}, {"method.epochs", 2}, {"method.buffer", 200}, {"dataset.distractors", 24}},
        {{"model.width", 256}, {"method.epochs", 2}, {"method.buffer", 200}}};
    TrialCosts table;
    for (const auto& s : sizes)
        table.add(s);
    auto costs = table.costs(true);
    ASSERT_EQ(costs.size(), 3u);
    EXPECT_FLOAT_EQ(costs[0], float(std::log(65.0) + std::log(3.0)));
    EXPECT_FLOAT_EQ(costs[1], float(std::log(257.0) + std::log(3.0))); // the buffer is not compared
    EXPECT_FLOAT_EQ(costs[2], costs[1]);                               // 0 distractors: not cheaper
    EXPECT_TRUE(TrialCosts().costs(true).empty());
}
