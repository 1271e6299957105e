// End-to-end: the E-SSL, LOOK, Chaos-is-a-ladder, ViT-pooling, EsViT, task-induced and
// disentanglement sweeps in their CI size — every arm runs with its parameters, the metrics land in
// the store and `iclr verify` computes each claim.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(EsslRotation, CiProfileRunsTheThreeArmsAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("essl_rotation");
    expect_ci_run(s, sweep, 3);
    expect_final_metrics(s, {"knn_avg_accuracy", "probe_avg_accuracy"}, 3);
    // Only the E-SSL arm trains the rotation head; the invariant arm turns its views instead.
    EXPECT_EQ(arms_with_metric(s, "rotation_acc"), "e-simsiam");
    EXPECT_EQ(s.sql("SELECT json_extract(config_json, '$.method.params.rotate_views') FROM runs WHERE arm = "
                    "'rotation-invariant'"),
              "0.5");
    expect_ci_verdicts(s, sweep, 4);
}

TEST(LookCoarse, CiProfileRunsTheFourArmsAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("look_coarse");
    expect_ci_run(s, sweep, 4);
    expect_final_metrics(s, {"probe_avg_accuracy", "knn_avg_accuracy"}, 4);
    // The kNN loss logs its neighbour purity; cross-entropy does not.
    EXPECT_EQ(arms_with_metric(s, "look_purity"), "look,look-no-projector");
    EXPECT_EQ(s.sql("SELECT json_extract(config_json, '$.method.params.superclasses') FROM runs WHERE arm = 'look'"),
              "[[0,1,2,3,4],[5,6,7,8,9]]");
    expect_ci_verdicts(s, sweep, 5);
}

TEST(ChaosLadder, CiProfileMeasuresArcAtEachCropStrengthAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("chaos_ladder");
    expect_ci_run(s, sweep, 6);
    // Every run has ACR before and after training, and ARC; the metric's crop follows the method's.
    expect_final_metrics(s, {"acr_start", "acr", "arc", "probe_avg_accuracy"}, 6);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE json_extract(config_json, '$.method.params.crop_min_scale') = "
                      "json_extract(config_json, '$.metric[0].params.crop_min_scale')"),
              6);
    expect_ci_verdicts(s, sweep, 3);
}

TEST(VitPooling, CiProfileMeasuresTheHessianOfBothPoolings) {
    Scratch s;
    std::string sweep = shipped_sweep("vit_pooling");
    expect_ci_run(s, sweep, 2);
    expect_final_metrics(s, {"avg_accuracy", "hessian_max_eig", "hessian_min_eig", "hessian_negative_ratio"}, 2);
    // The top of the spectrum is above its bottom and positive.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics a JOIN final_metrics b ON a.run_id = b.run_id AND a.key = "
                      "'hessian_max_eig' AND b.key = 'hessian_min_eig' WHERE a.value > b.value AND a.value > 0"),
              2);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(pool) FROM (SELECT json_extract(config_json, '$.model.params.pool') AS pool "
                    "FROM runs ORDER BY arm)"),
              "cls,gap");
    expect_ci_verdicts(s, sweep, 3);
}

TEST(EsvitRegion, CiProfileRunsDinoEsvitAndTheUntrainedFloorAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("esvit_region");
    expect_ci_run(s, sweep, 3);
    expect_final_metrics(s, {"knn_avg_accuracy", "probe_avg_accuracy", "dino_view_loss", "teacher_entropy"}, 3);
    // Only EsViT has a region loss.
    EXPECT_EQ(arms_with_metric(s, "esvit_region_loss"), "esvit");
    expect_ci_verdicts(s, sweep, 3);
}

TEST(TaskInduced, CiProfileProbesTheUnseenTaskAtBothClutterLevelsAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("task_induced");
    expect_ci_run(s, sweep, 8);
    // A probe for the prior task (0) and the unseen one (1) in every run.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'probe_acc' AND task IN (0, 1)"), 16);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(d) FROM (SELECT DISTINCT json_extract(config_json, "
                    "'$.dataset.params.distractors') AS d FROM runs ORDER BY d)"),
              "0,24");
    // The untrained arm logs no training loss; the other three do.
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT r.arm) FROM runs r JOIN metrics m ON m.run_id = r.id AND m.key = "
                      "'train_loss'"),
              3);
    expect_ci_verdicts(s, sweep, 5);
}

TEST(Disentanglement, CiProfileScoresMigPerFactorAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("disentanglement");
    expect_ci_run(s, sweep, 4);
    expect_final_metrics(s, {"mig", "mi_best", "mig_shape", "mig_rotation", "mi_x"}, 4);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key LIKE 'mig_%'"), 4 * 6);
    expect_ci_verdicts(s, sweep, 2);
}
