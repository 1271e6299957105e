// End-to-end: continual-learning methods and the kNN metric through the real binary, on real data.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(Continual, AgemAndFinetuneArmsReportKnnAccuracyIntoTheAccuracyMatrixView) {
    Scratch s;
    std::string file = s.write("cl.toml", R"(
[sweep]
name = "cl"
jobs = 2
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 60
test_per_class = 30
[model]
plugin = "mlp"
width = 32
depth = 1
[method]
plugin = { grid = ["finetune", "agem"] }
lr = 0.05
[[metric]]
plugin = "knn_accuracy"
k = 20
)");
    auto r = s.run({"run", file});
    ASSERT_EQ(r.code, 0) << r.out;
    // Two tasks: a 2 x 2 matrix per run, from the kNN metric, read through the view.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM accuracy_matrix"), 8);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM accuracy_matrix WHERE accuracy BETWEEN 0.5 AND 1.0"), 8);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'knn_forgetting'"), 2);
    // knn_forgetting is a[0][0] - a[1][0] for two tasks.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs r WHERE abs((SELECT value FROM final_metrics WHERE run_id = r.id AND "
                      "key = 'knn_forgetting') - ((SELECT accuracy FROM accuracy_matrix WHERE run_id = r.id AND "
                      "after_task = 0 AND task = 0) - (SELECT accuracy FROM accuracy_matrix WHERE run_id = r.id AND "
                      "after_task = 1 AND task = 0))) < 1e-12"),
              2);
    EXPECT_EQ(s.sql("SELECT arm FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = "
                    "'agem_projected_steps'"),
              "agem");
}
