// End-to-end: the sweeps of issue 17's novel-task papers in their CI size — SIFAR's sweep trains
// the super image, frame averaging and the GRU on both order-only tasks, frame averaging lands
// exactly at chance (its clips come in time-reversed pairs), and `iclr verify` computes each claim.
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
