// What the plan decides for the trials it queues: the order (longest first, equal trials spread over
// their shared stages so the first workers build different cached stages instead of queueing on
// one's lock) and which artifact cache each reads (one per combination of plugin builds).
#include <gtest/gtest.h>

#include "cli/run_plan.hpp"
#include "common/results_layout.hpp"

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

TEST(BuildsId, NamesTheSetOfBuildsWhateverTheOrder) {
    std::vector<std::pair<std::string, std::string>> a{{"finetune", "aa11"}, {"mlp", "bb22"}, {"mnist", "cc33"}};
    std::vector<std::pair<std::string, std::string>> b{{"mnist", "cc33"}, {"finetune", "aa11"}, {"mlp", "bb22"}};
    EXPECT_EQ(builds_id(a), builds_id(b));
    EXPECT_EQ(builds_id(a).size(), 16u);
    // Any one library rebuilt (another SHA-256) is another cache; so is a plugin more or less.
    auto rebuilt = a;
    rebuilt[1].second = "bb23";
    EXPECT_NE(builds_id(rebuilt), builds_id(a));
    auto fewer = a;
    fewer.pop_back();
    EXPECT_NE(builds_id(fewer), builds_id(a));
    EXPECT_EQ(ResultsLayout("/x/results/iclr.db").cache_dir(builds_id(a)),
              std::filesystem::path("/x/results/cache/build-" + builds_id(a)));
}
