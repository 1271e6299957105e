// End-to-end: the MAML-variants and MLTI sweeps in their CI size — every arm meta-trains, the
// few-shot accuracy and its interval land in the store, and `iclr verify` computes each claim; a
// paired claim row counts only when both of its runs are trials of the sweep as written.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(MamlVariants, CiProfileMetaTrainsEveryArmAtBothShotsAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("maml_variants");
    expect_ci_run(s, sweep, 6);
    expect_final_metrics(s, {"fewshot_accuracy", "fewshot_ci95", "train_loss"}, 6);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT r.arm || ':' || json_extract(r.config_json, "
                    "'$.method.plugin') || ':' || json_extract(r.config_json, '$.dataset.params.shots') AS x "
                    "FROM runs r ORDER BY x)"),
              "maml:maml:1,maml:maml:5,unicorn:unicorn_maml:1,unicorn:unicorn_maml:5,zeroing:maml:1,zeroing:maml:5");
    expect_ci_verdicts(s, sweep, 4);
}

TEST(Mlti, CiProfileMetaTrainsBothMethodsWithAndWithoutMltiAtEveryFamilyCount) {
    Scratch s;
    std::string sweep = shipped_sweep("mlti");
    expect_ci_run(s, sweep, 12);
    expect_final_metrics(s, {"fewshot_accuracy", "fewshot_ci95", "train_loss"}, 12);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT DISTINCT r.arm || ':' || json_extract(r.config_json, "
                    "'$.method.plugin') || ':' || json_extract(r.config_json, '$.method.params.mlti') AS x "
                    "FROM runs r ORDER BY x)"),
              "base:maml:0,base:protonet:0,mlti:maml:1,mlti:protonet:1");
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT json_extract(config_json, '$.dataset.params.train_families')) FROM runs"),
              3);
    expect_ci_verdicts(s, sweep, 4);
    // Each gain row pairs an MLTI run with its base run: both are counted (3 + 3 per method).
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE kind = 'decreasing' AND runs_count = 6"), 2);
}

TEST(Mlti, AGainRowWhoseBaseRunIsOfAnotherConfigIsLeftOut) {
    Scratch s;
    std::string text = slurp(std::string(ICLR_TEST_SOURCE_DIR) + "/sweeps/mlti.toml");
    std::string v1 = s.write("m.toml", text);
    ASSERT_EQ(s.run({"run", v1, "--profile", "ci"}).code, 0);
    // Only the base arm's config changes (an inert parameter): its runs are new trials, MLTI's not.
    std::string arm = "name = \"base\"\n";
    text.replace(text.find(arm), arm.size(), arm + "method = { mlti_alpha = 1.0 }\n");
    std::string v2 = s.write("m2.toml", text);
    auto r = s.run({"run", v2, "--profile", "ci"});
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs"), 18) << r.out;
    // The shipped gain queries take the base run from sweep_runs: each MLTI run pairs with the new
    // base run only, and each verdict counts the 3 MLTI and 3 new base runs.
    auto v = s.run({"verify", v2, "--profile", "ci"});
    ASSERT_EQ(v.code, 0) << v.out;
    EXPECT_FALSE(has(v.out, "claim 'MLTI's gain over")) << v.out; // no note: nothing left out
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE kind = 'decreasing' AND runs_count = 6"), 2) << v.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE kind = 'greater' AND runs_count = 2"), 2) << v.out;
    // Without that, the queries also pair each MLTI run with the old base run: verify names both
    // runs of a row (base_run_id), so those 3 rows (per method) are left out, the verdicts the same.
    const std::string scoped = " AND b.id IN (SELECT id FROM sweep_runs)";
    for (size_t at; (at = text.find(scoped)) != std::string::npos;)
        text.erase(at, scoped.size());
    std::string v3 = s.write("m3.toml", text);
    auto u = s.run({"verify", v3, "--profile", "ci"});
    ASSERT_EQ(u.code, 0) << u.out;
    EXPECT_TRUE(has(u.out, "claim 'MLTI's gain over ProtoNet grows as meta-training families get fewer': left out 3 "
                           "row(s) of runs that are not trials of"))
        << u.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE kind = 'decreasing' AND runs_count = 6"), 4) << u.out;
    EXPECT_EQ(s.sql("SELECT COUNT(*) || ' ' || COUNT(DISTINCT IFNULL(estimate, '-') || verdict || runs_sha256) FROM "
                    "verdicts WHERE claim LIKE 'MLTI''s gain over ProtoNet%'"),
              "2 1"); // the same verdict from the same runs both ways
}
