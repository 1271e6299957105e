// End-to-end: the E-SSL and LOOK sweeps in their CI size — every arm runs with its parameters, the
// metrics land in the store and `iclr verify` computes each claim.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(EsslRotation, CiProfileRunsTheThreeArmsAndVerifies) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/essl_rotation.toml";
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "3 done, 0 failed")) << r.out;
    for (const char* key : {"knn_avg_accuracy", "probe_avg_accuracy"})
        EXPECT_EQ(s.count(std::string("SELECT COUNT(*) FROM final_metrics WHERE key = '") + key + "'"), 3) << key;
    // Only the E-SSL arm trains the rotation head; the invariant arm turns its views instead.
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(r.arm) FROM runs r JOIN final_metrics f ON f.run_id = r.id "
                    "AND f.key = 'rotation_acc'"),
              "e-simsiam");
    EXPECT_EQ(s.sql("SELECT json_extract(config_json, '$.method.params.rotate_views') FROM runs WHERE arm = "
                    "'rotation-invariant'"),
              "0.5");
    auto v = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), 4);
}

TEST(LookCoarse, CiProfileRunsTheFourArmsAndVerifies) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/look_coarse.toml";
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "4 done, 0 failed")) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'probe_avg_accuracy'"), 4);
    // The kNN loss logs its neighbour purity; cross-entropy does not.
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(r.arm) FROM (SELECT r.arm FROM runs r JOIN final_metrics f ON f.run_id = "
                    "r.id AND f.key = 'look_purity' ORDER BY r.arm) r"),
              "look,look-no-projector");
    EXPECT_EQ(s.sql("SELECT json_extract(config_json, '$.method.params.superclasses') FROM runs WHERE arm = 'look'"),
              "[[0,1,2,3,4],[5,6,7,8,9]]");
    auto v = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), 5);
}

TEST(ChaosLadder, CiProfileMeasuresArcAtEachCropStrengthAndVerifies) {
    Scratch s;
    std::string sweep = std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/chaos_ladder.toml";
    auto r = s.run({"run", sweep, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r.out, "6 done, 0 failed")) << r.out;
    // Every run has ACR before and after training, and ARC; the metric's crop follows the method's.
    for (const char* key : {"acr_start", "acr", "arc", "probe_avg_accuracy"})
        EXPECT_EQ(s.count(std::string("SELECT COUNT(*) FROM final_metrics WHERE key = '") + key + "'"), 6) << key;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE json_extract(config_json, '$.method.params.crop_min_scale') = "
                      "json_extract(config_json, '$.metric[0].params.crop_min_scale')"),
              6);
    auto v = s.run({"verify", sweep, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT claim) FROM verdicts"), 3);
}
