// A sweep that compares methods: three arms of different method plugins through plan, run and
// verify, the arm recorded on each run, content keys shared across arms.
#include <gtest/gtest.h>

#include "e2e_util.hpp"

using namespace iclr::e2e;

namespace {

const char* kThreeMethods = R"(
[sweep]
name = "three_methods"
seeds = 2
jobs = 2
[dataset]
plugin = "mnist"
tasks = [[0, 1], [2, 3]]
train_per_class = 20
test_per_class = 20
[model]
plugin = "mlp"
width = 16
[method]
plugin = "finetune"
lr = 0.05
[[metric]]
plugin = "accuracy_matrix"
[[metric]]
plugin = "forgetting"

[[arm]]
name = "finetune"
[[arm]]
name = "replay"
method = { plugin = "replay", buffer_size = { grid = [10, 40] } }
[[arm]]
name = "multitask"
method = { plugin = "multitask" }

[[claim]]
name = "replay forgets less than finetune"
kind = "less"
a = "replay"
b = "finetune"
sql = "SELECT r.id AS run_id, r.seed, r.arm, f.value FROM runs r JOIN final_metrics f ON f.run_id = r.id AND f.key = 'forgetting'"
)";

} // namespace

TEST(Arms, ThreeMethodPluginsPlanRunAndVerifyInOneSweep) {
    Scratch s;
    std::string file = s.write("three.toml", kThreeMethods);
    auto plan = s.run({"plan", file});
    ASSERT_EQ(plan.code, 0) << plan.out;
    EXPECT_TRUE(has(plan.out, "arm replay\n")) << plan.out;
    EXPECT_TRUE(has(plan.out, "arms: 3 (finetune 2, replay 4, multitask 2); trials in all: 8")) << plan.out;
    EXPECT_TRUE(has(plan.out, "first:  arm=replay method.buffer_size=10 seed=0")) << plan.out;
    auto run = s.run({"run", file});
    ASSERT_EQ(run.code, 0) << run.out;
    EXPECT_TRUE(has(run.out, "8 trials, 0 already done, 8 to run")) << run.out;
    EXPECT_EQ(s.sql("SELECT group_concat(arm || ':' || method || ':' || n, ' ') FROM (SELECT arm, method, COUNT(*) "
                    "AS n FROM runs WHERE status = 'done' GROUP BY arm, method ORDER BY arm)"),
              "finetune:finetune:2 multitask:multitask:2 replay:replay:4");
    auto verify = s.run({"verify", file});
    EXPECT_EQ(verify.code, 0) << verify.out;
    EXPECT_TRUE(has(verify.out, "replay forgets less than finetune  less  2")) << verify.out;
    EXPECT_EQ(s.count("SELECT COUNT(*) FROM verdicts WHERE n = 2 AND runs_count = 6"), 1);
}

TEST(Arms, MovingATrialToAnotherArmKeepsItsResult) {
    Scratch s;
    std::string base = "[sweep]\nseeds = 2\n[method]\nplugin = \"noop\"\n";
    ASSERT_EQ(s.run({"run", s.write("a.toml", base + "[[arm]]\nname = \"first\"\n")}).code, 0);
    auto moved = s.run({"run", s.write("b.toml", base + "[[arm]]\nname = \"renamed\"\n")});
    EXPECT_TRUE(has(moved.out, "2 trials, 2 already done, 0 to run")) << moved.out; // same config: no rerun
    EXPECT_EQ(s.sql("SELECT group_concat(DISTINCT arm) FROM runs"), "renamed");
}

TEST(Arms, ABaseParameterTheArmsPluginLacksNamesBoth) {
    Scratch s;
    std::string text = std::string(kThreeMethods);
    text.replace(text.find("lr = 0.05"), 9, "lr = 0.05\npretrain_epochs = 0");
    auto r = s.run({"plan", s.write("bad.toml", text)});
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_TRUE(has(r.out, "bad.toml:17:19: arm 'replay': method 'replay' has no parameter 'pretrain_epochs'"))
        << r.out;
    EXPECT_TRUE(has(r.out, "bad.toml:17:19: arm 'multitask': method 'multitask' has no parameter 'pretrain_epochs'"))
        << r.out;
    EXPECT_FALSE(has(r.out, "arm 'finetune'")) << r.out;
}
