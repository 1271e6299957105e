// finetune's optimiser between tasks: with a fresh optimiser the masked task-A head rows get no
// update while task B trains; with momentum carried over they keep moving.
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// A two-task benchmark (classes {0,1} then {2,3}) on 2x2 inputs, and a Session around it that
// snapshots the trainable tensors at every task end.
class SnapshotSession : public Session {
  public:
    SnapshotSession(test::TestContext& ctx)
        : ctx_(ctx), model_(test::make_plugin<Model>("models", "mlp", ctx, {{"width", "8"}, {"depth", "1"}})) {
        torch::manual_seed(1);
        bench_.num_classes = 4;
        bench_.input_shape = {1, 2, 2};
        for (int t = 0; t < 2; ++t) {
            auto x = torch::randn({32, 1, 2, 2});
            auto y = (x.flatten(1).sum(1) > 0).to(torch::kLong) + 2 * t;
            bench_.tasks.push_back({"t" + std::to_string(t), {2 * t, 2 * t + 1}, {x, y}, {x, y}});
        }
    }
    const Benchmark& benchmark() override { return bench_; }
    std::shared_ptr<Backbone> new_backbone() override { return model_->build(bench_.input_shape, ctx_); }
    void notify(const Event& e, Learner& learner) override {
        if (e.kind != EventKind::TaskEnd) return;
        std::vector<torch::Tensor> copy;
        for (auto& p : learner.trainable())
            copy.push_back(p.detach().clone());
        snapshots.push_back(copy);
    }
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override { return nullptr; }
    std::string config_text(const std::string&) override { return ""; }
    std::vector<std::vector<torch::Tensor>> snapshots;

  private:
    test::TestContext& ctx_;
    std::unique_ptr<Model> model_;
    Benchmark bench_;
};

// How far task A's head rows (weight rows 0-1 and their biases, the last two tensors) moved
// while task B trained.
double head_a_moved(const std::string& reset) {
    test::TestContext ctx;
    SnapshotSession s(ctx);
    auto m = test::make_plugin<Method>("methods", "finetune", ctx,
                                       {{"lr", "0.1"},
                                        {"momentum", "0.9"},
                                        {"epochs", "2"},
                                        {"batch_size", "8"},
                                        {"log_every", "0"},
                                        {"reset_optimizer", reset}});
    m->run(s);
    EXPECT_EQ(s.snapshots.size(), 2u);
    auto& after_a = s.snapshots[0];
    auto& after_b = s.snapshots[1];
    size_t w = after_a.size() - 2, b = after_a.size() - 1;
    double moved = (after_b[w].slice(0, 0, 2) - after_a[w].slice(0, 0, 2)).abs().max().item<double>();
    moved = std::max(moved, (after_b[b].slice(0, 0, 2) - after_a[b].slice(0, 0, 2)).abs().max().item<double>());
    double b_rows = (after_b[w].slice(0, 2, 4) - after_a[w].slice(0, 2, 4)).abs().max().item<double>();
    EXPECT_GT(b_rows, 0.0); // task B's own rows did train
    return moved;
}

} // namespace

TEST(Finetune, AFreshOptimiserLeavesTheMaskedHeadOfTaskAUntouched) { EXPECT_EQ(head_a_moved("true"), 0.0); }

TEST(Finetune, CarriedMomentumKeepsMovingTaskAsHeadDuringTaskB) { EXPECT_GT(head_a_moved("false"), 1e-4); }
