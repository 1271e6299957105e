// End-to-end: the VICReg collapse sweep in its CI size — its arms run with the representation
// metrics and `iclr verify` computes each claim.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(VicregCollapse, CiProfileRunsTheArmsWithTheRepresentationMetrics) {
    Scratch s;
    std::string sweep = shipped_sweep("vicreg_collapse");
    expect_ci_run(s, sweep, 3);
    expect_final_metrics(
        s, {"knn_avg_accuracy", "probe_avg_accuracy", "embedding_std_scaled", "effective_rank", "vicreg_variance"}, 3);
    // The no-variance arm trains with var_coeff 0 (the term is still logged, unweighted).
    EXPECT_EQ(s.sql("SELECT json_extract(r.config_json, '$.method.params.var_coeff') FROM runs r WHERE arm = "
                    "'no-variance'"),
              "0.0");
    expect_ci_verdicts(s, sweep, 6);
}

// A verdict counts the trials of the sweep as written: after the config changes, the runs of the
// old config in the same database are left out (and said so), not pooled with the new ones.
TEST(VicregCollapse, VerifyLeavesOutRunsOfAnotherConfigOfTheSweep) {
    Scratch s;
    std::string text = slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/vicreg_collapse.toml");
    std::string v1 = s.write("v.toml", text);
    ASSERT_EQ(s.run({"run", v1, "--profile", "ci"}).code, 0);
    text.replace(text.find("log_every = 1\n"), 14, "log_every = 1\nexpander_dim = 32\n"); // the ci profile's
    std::string v2 = s.write("v2.toml", text);
    ASSERT_EQ(s.run({"run", v2, "--profile", "ci"}).code, 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 6);
    auto v = s.run({"verify", v2, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    // Each comparison uses its two runs of the new config, each one-arm claim its one run.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE runs_count = 2"), 3) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE runs_count = 1"), 3) << v.out;
    EXPECT_TRUE(has(v.out, "left out 2 row(s) of runs that are not trials of")) << v.out;
}
