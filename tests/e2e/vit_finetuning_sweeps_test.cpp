// End-to-end: the ViT + SAM, cosFormer and LP-FT sweeps in their CI size — every arm runs with its
// optimiser, attention or method, the metrics land in the store and `iclr verify` computes each claim.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(VitSam, CiProfileTrainsBothModelsWithAndWithoutSamAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("vit_sam");
    expect_ci_run(s, sweep, 4);
    expect_final_metrics(s, {"avg_accuracy", "hessian_max_eig"}, 4);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT r.arm || ':' || json_extract(r.config_json, "
                    "'$.model.plugin') || ':' || json_extract(r.config_json, '$.method.params.optimizer') AS x "
                    "FROM runs r ORDER BY x)"),
              "adamw:mixer:adamw,adamw:vit:adamw,sam:mixer:sam,sam:vit:sam");
    expect_ci_verdicts(s, sweep, 4);
}

TEST(Cosformer, CiProfileTrainsSoftmaxAndCosformerAttentionAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("cosformer");
    expect_ci_run(s, sweep, 2);
    expect_final_metrics(s, {"avg_accuracy"}, 2);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(a) FROM (SELECT json_extract(config_json, '$.model.params.attention') AS a "
                    "FROM runs ORDER BY a)"),
              "cosformer,softmax");
    expect_ci_verdicts(s, sweep, 1);
}

TEST(LpFt, CiProfileSharesOnePretrainingAndMeasuresShiftsAndDistortion) {
    Scratch s;
    std::string sweep = shipped_sweep("lp_ft");
    expect_ci_run(s, sweep, 6);
    expect_final_metrics(s,
                         {"avg_accuracy", "ood_accuracy", "ood_accuracy_rotation", "ood_accuracy_stroke",
                          "ood_accuracy_noise", "ood_accuracy_contrast", "feature_distortion_id",
                          "feature_distortion_ood"},
                         6);
    // FT, LP and LP-FT fine-tune one cached backbone per pretraining objective: each built once, loaded twice.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '0'"), 2);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '1'"), 4);
    // The linear probe never moves the backbone; the other two do.
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT r.arm || ':' || (f.value > 0) AS x FROM runs r JOIN "
                    "final_metrics f ON f.run_id = r.id AND f.key = 'feature_distortion_id' ORDER BY r.arm)"),
              "ft:1,ft:1,lp:0,lp:0,lp_ft:1,lp_ft:1");
    expect_ci_verdicts(s, sweep, 8);
}

TEST(AsvitProxies, CiProfileMeasuresBothProxiesAtInitialisationAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("asvit_proxies");
    expect_ci_run(s, sweep, 3);
    expect_final_metrics(s, {"ntk_condition", "length_distortion", "avg_accuracy"}, 3);
    // Both proxies are measured at step 0 (the initialisation), the accuracy after training.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key IN ('ntk_condition', 'length_distortion') AND step = 0"),
              6);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM metrics WHERE key = 'avg_accuracy' AND step > 0"), 3);
    // Three different random architectures, a finite condition number above 1 for each.
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT json_extract(config_json, '$.model')) FROM runs"), 3);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'ntk_condition' AND value > 1"), 3);
    expect_ci_verdicts(s, sweep, 4);
    // A row averages an architecture's runs: those of the sweep as written (sweep_runs), not also
    // a variant's with the same architecture (longer training) in the same database.
    auto rows = [&] {
        return s.run({"verify", sweep, "--profile", "ci", "--claim", "lower NTK condition number at", "--rows"}).out;
    };
    std::string before = rows();
    ASSERT_EQ(s.run({"run", sweep, "--profile", "ci", "--set", "method.epochs=3"}).code, 0);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs WHERE status = 'done'"), 6);
    EXPECT_EQ(rows(), before);
}

TEST(SparseDetr, CiProfileCountsEncoderFlopsPerKeptShareAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("sparse_detr");
    expect_ci_run(s, sweep, 6);
    expect_final_metrics(s, {"exact_match", "digit_accuracy", "encoder_flops", "avg_accuracy"}, 6);
    // The string accuracy the generic metric measures is the method's exact match.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics a JOIN final_metrics e ON e.run_id = a.run_id "
                      "AND e.key = 'exact_match' WHERE a.key = 'avg_accuracy' AND a.value = e.value"),
              6);
    // Fewer kept tokens, fewer FLOPs; the same share costs the same in both arms.
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT f.value) FROM final_metrics f WHERE f.key = 'encoder_flops'"), 4);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = "
                      "'encoder_flops' JOIN runs d ON json_extract(d.config_json, '$.model.params.keep') = 1.0 "
                      "JOIN final_metrics g ON g.run_id = d.id AND g.key = 'encoder_flops' "
                      "WHERE json_extract(r.config_json, '$.model.params.keep') < 1 AND f.value < g.value"),
              5);
    // Only the sparse encoders have a scorer: dam_captured for the five with keep < 1.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key = 'dam_captured' AND value > 0 AND value < 1"), 5);
    expect_ci_verdicts(s, sweep, 5);
}

TEST(SimVlm, CiProfileCaptionsWithEachObjectiveAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("simvlm");
    expect_ci_run(s, sweep, 3);
    expect_final_metrics(s, {"token_accuracy", "exact_match", "zero_shot_accuracy"}, 3);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT arm) FROM runs"), 3);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics WHERE key IN ('token_accuracy', 'exact_match', "
                      "'zero_shot_accuracy') AND value >= 0 AND value <= 1"),
              9);
    expect_ci_verdicts(s, sweep, 4);
}

TEST(VitGan, CiProfileTrainsEachDiscriminatorVariantAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("vitgan");
    expect_ci_run(s, sweep, 4);
    expect_final_metrics(s, {"collapsed", "frechet_distance", "d_grad_norm_max", "d_loss", "g_loss"}, 4);
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT arm) FROM runs"), 4);
    // One feature classifier for the whole sweep: trained by the first trial, read by the others.
    EXPECT_EQ(s.count("SELECT COUNT(DISTINCT value) FROM attributes WHERE key = 'cache_key'"), 1);
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'cache_hit' AND value = '0'"), 1);
    expect_ci_verdicts(s, sweep, 4);
}
