// End-to-end: the sweeps of issue 17's novel-task papers in their CI size — SIFAR's sweep trains
// the super image, frame averaging and the GRU on both order-only tasks, frame averaging lands
// exactly at chance (its clips come in time-reversed pairs); ORCA's runs ORCA, its ablation and both
// k-means baselines from one pretrained backbone; latent domains' runs every adapter mode on the
// five-domain mixture; `iclr verify` computes each sweep's claims.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

TEST(SifarSweep, CiProfileTrainsEveryViewOnBothTasksAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("sifar");
    expect_ci_run(s, sweep, 6); // 3 arms x 2 tasks at T = 4
    expect_final_metrics(s, {"accuracy", "train_accuracy", "test_accuracy", "loss"}, 6);
    EXPECT_EQ(s.sql("SELECT GROUP_CONCAT(x) FROM (SELECT DISTINCT arm || ':' || json_extract(config_json, "
                    "'$.dataset.params.task') AS x FROM runs ORDER BY x)"),
              "frame_average:direction,frame_average:order,super_image:direction,super_image:order,"
              "temporal:direction,temporal:order");
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM final_metrics f JOIN runs r ON r.id = f.run_id WHERE "
                      "r.arm = 'frame_average' AND f.key = 'accuracy' AND f.value = 0.5"),
              2);
    expect_ci_verdicts(s, sweep, 4);
}

TEST(OrcaSweep, CiProfileRunsOrcaAndBothBaselinesOnOneSplitAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("orca");
    expect_ci_run(s, sweep, 4); // 4 arms, one seed
    expect_final_metrics(s,
                         {"seen_accuracy", "novel_accuracy", "all_accuracy", "test_seen_accuracy",
                          "test_novel_accuracy", "test_all_accuracy", "margin", "loss"},
                         4);
    // Only the k-means baselines have a closed-world head to report.
    EXPECT_EQ(arms_with_metric(s, "head_seen_accuracy"), "fixmatch,supervised");
    // Every arm pretrained (VICReg, cached per seed) before its own objective.
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM attributes WHERE key = 'pretrained' AND value = 'vicreg'"), 4);
    expect_ci_verdicts(s, sweep, 4);
}

TEST(LatentDomainsSweep, CiProfileTrainsEveryAdapterModeOnTheMixtureAndVerifies) {
    Scratch s;
    std::string sweep = shipped_sweep("latent_domains");
    expect_ci_run(s, sweep, 5); // 5 arms, one seed
    expect_final_metrics(s,
                         {"accuracy", "mean_domain_accuracy", "worst_domain_accuracy", "domain_accuracy_0",
                          "domain_accuracy_4", "loss", "pretrain_loss"},
                         5);
    // Gates exist only where adapters are latent.
    EXPECT_EQ(arms_with_metric(s, "gate_purity"), "latent,latent_k2");
    // Frozen 3x3 convolutions: fine-tuning trains more weights than any adapter arm.
    EXPECT_EQ(s.sql("SELECT arm FROM runs r JOIN attributes a ON a.run_id = r.id AND a.key = 'trainable_params' "
                    "ORDER BY CAST(a.value AS INTEGER) DESC LIMIT 1"),
              "finetune");
    expect_ci_verdicts(s, sweep, 4);
}
