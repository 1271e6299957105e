// End-to-end: the sweeps of issue 21's title-only papers in their CI size — the task-relatedness
// sweep meta-trains at every (families, images) point plus the less related test families, and
// its gap and spectral terms land in the store; the curriculum sweep trains both rules under every
// curriculum, one learning time per network; the MetaBu sweep builds one performance matrix per
// task family (the other trials read it from the cache) and scores every recommender;
// `iclr verify` computes each claim.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(TaskRelatedness, CiProfileMeasuresGapAndSpectralTermsAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("task_relatedness");
    expect_ci_run(s, sweep, 6); // 2 seeds x (per_class 5, 20 at random + 20 at new_rotation)
    expect_final_metrics(s,
                         {"meta_gap", "meta_train_accuracy", "meta_test_accuracy", "spectral_complexity",
                          "spectral_product", "prototype_margin"},
                         6);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT DISTINCT json_extract(config_json, "
                    "'$.dataset.params.test_families') || ':' || json_extract(config_json, "
                    "'$.dataset.params.per_class') AS x FROM runs ORDER BY x)"),
              "new_rotation:20,random:20,random:5");
    // The gap is the difference of the two accuracies it is made of, run by run.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics g JOIN final_metrics a ON a.run_id = g.run_id AND "
                      "a.key = 'meta_train_accuracy' JOIN final_metrics b ON b.run_id = g.run_id AND b.key = "
                      "'meta_test_accuracy' WHERE g.key = 'meta_gap' AND abs(g.value - (a.value - b.value)) < 1e-12"),
              6);
    expect_ci_verdicts(s, sweep, 5);
}

TEST(CurriculumRules, CiProfileTrainsBothRulesUnderEveryCurriculumAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("curriculum_rules");
    expect_ci_run(s, sweep, 6);
    expect_final_metrics(s,
                         {"learning_time_target_0", "learning_time_target_1", "learning_time_representation_0",
                          "learning_time_representation_1", "cka_between", "cka_within"},
                         6);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT DISTINCT json_extract(config_json, "
                    "'$.method.params.curriculum') AS x FROM runs ORDER BY x)"),
              "easy_to_hard,none,staged");
    // Learning times are steps between 0 and max_steps (20 in the ci profile).
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key LIKE 'learning_time_%' AND "
                      "(value < 0 OR value > 20)"),
              0);
    expect_ci_verdicts(s, sweep, 2);
}

TEST(MetaBu, CiProfileBuildsOneMatrixPerFamilyAndScoresEveryRecommender) {
    Scratch s;
    std::string sweep = shipped_sweep("metabu");
    expect_ci_run(s, sweep, 8); // 2 arms x 2 families x 2 seeds
    expect_final_metrics(s,
                         {"rank_metabu", "rank_handcrafted", "rank_random", "rank_global", "rank_oracle",
                          "rank1_metabu", "regret_metabu", "ndcg_test_metabu", "ndcg_test_handcrafted",
                          "psi_iterations"},
                         8);
    // 10 data sets x 4 configurations of accuracies per run, built once per family.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'config_accuracy'"), 8 * 40);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '0'"), 2);
    // Ranks are within the 4-configuration grid; a run's matrix is the same whichever trial built it.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key LIKE 'rank%' AND (value < 1 OR value > 4)"), 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM (SELECT json_extract(r.config_json, '$.dataset.params.family_seed') AS "
                      "f, m.task, m.step FROM metrics m JOIN runs r ON r.id = m.run_id WHERE m.key = "
                      "'config_accuracy' GROUP BY f, m.task, m.step HAVING MAX(m.value) != MIN(m.value))"),
              0);
    expect_ci_verdicts(s, sweep, 5);
}
