// End-to-end: the LUMP-table sweep in its CI size — every arm runs, the deck-layout query answers
// and `iclr verify` computes (here: "no data", one seed) each of its claims.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(LumpTable, CiProfileRunsEveryArmAndTheTableQueryAnswers) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/lump_table.toml";
    auto plan = s.run({"plan", sweep});
    ASSERT_EQ(plan.code, 0) << plan.out;
    EXPECT_TRUE(has(plan.out, "simsiam-lump on dataset=fashion_mnist 3); trials in all: 72")) << plan.out;
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "12 done, 0 failed")) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT arm) FROM runs WHERE dataset = 'mnist'"), 12);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'knn_avg_accuracy'"), 12);
    // Joint training has an accuracy and no forgetting; PNN's frozen columns forget nothing.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'knn_forgetting'"), 10);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics f JOIN runs r ON r.id = f.run_id WHERE f.key = "
                      "'knn_forgetting' AND r.method = 'pnn' AND f.value = 0"),
              2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = "
                      "'knn_forgetting' WHERE r.method = 'multitask'"),
              0);
    auto q = s.run({"query", slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/results/queries/lump_table.sql"), "--format",
                    "csv", "--sweep", sweep, "--profile", "ci"});
    ASSERT_EQ(q.code, 0) << q.out;
    EXPECT_TRUE(has(q.out, "block,method,mnist_acc,mnist_forgetting,fmnist_acc,fmnist_forgetting,seeds\n")) << q.out;
    EXPECT_TRUE(has(q.out, "supervised,finetune,")) << q.out;
    EXPECT_TRUE(has(q.out, "simsiam,lump,")) << q.out;
    EXPECT_TRUE(has(q.out, "simsiam,multitask,")) << q.out;
    EXPECT_EQ(std::count(q.out.begin(), q.out.end(), '\n'), 13) << q.out; // header + 12 rows
    auto v = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_TRUE(has(v.out, "LUMP forgets less than SimSiam finetune")) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), 6);
}
