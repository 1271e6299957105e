// End-to-end: the VICReg collapse sweep in its CI size — its arms run with the representation
// metrics and `iclr verify` computes each claim.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(VicregCollapse, CiProfileRunsTheArmsWithTheRepresentationMetrics) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/vicreg_collapse.toml";
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "3 done, 0 failed")) << r.out;
    for (const char* key :
         {"knn_avg_accuracy", "probe_avg_accuracy", "embedding_std_scaled", "effective_rank", "vicreg_variance"})
        EXPECT_EQ(s.count(std::string("SELECT COUNT(*) FROM final_metrics WHERE key = '") + key + "'"), 3) << key;
    // The no-variance arm trains with var_coeff 0 (the term is still logged, unweighted).
    EXPECT_EQ(s.sql("SELECT json_extract(r.config_json, '$.method.params.var_coeff') FROM runs r WHERE arm = "
                    "'no-variance'"),
              "0.0");
    auto v = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), 6);
}
