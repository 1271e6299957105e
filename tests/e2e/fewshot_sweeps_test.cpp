// End-to-end: the MAML-variants sweep in its CI size — every arm meta-trains at 1 and 5 shots, the
// few-shot accuracy and its interval land in the store, and `iclr verify` computes each claim.
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
