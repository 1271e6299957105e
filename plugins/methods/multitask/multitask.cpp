// Method plugin `multitask`: joint training on every task at once, the upper bound that
// sequential methods are compared with (no forgetting by construction).
#include "iclr/sdk.hpp"

namespace {

class Multitask : public iclr::Method {
  public:
    Multitask(const iclr::ParamSet& p, iclr::RunContext&)
        : lr_(p.get_float("lr")), momentum_(p.get_float("momentum")), epochs_(p.get_int("epochs")),
          batch_(p.get_int("batch_size")), task_head_(p.get_string("head") == "task") {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        auto& ctx = s.ctx();
        iclr::ClassifierLearner learner(s.new_backbone(), b);
        ctx.set_attribute("param_count", std::to_string(learner.backbone().param_count()));
        // One pool of examples tagged with their task, so a task head can mask each example's logits.
        std::vector<torch::Tensor> xs, ys, ts;
        auto mask = torch::full({int64_t(b.tasks.size()), b.num_classes},
                                task_head_ ? -std::numeric_limits<float>::infinity() : 0.0f);
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            xs.push_back(b.tasks[t].train.x);
            ys.push_back(b.tasks[t].train.y);
            ts.push_back(torch::full({b.tasks[t].train.size()}, int64_t(t), torch::kInt64));
            for (int64_t c : b.tasks[t].classes)
                mask[int64_t(t)][c] = 0.0f;
        }
        auto x = torch::cat(xs), y = torch::cat(ys), task = torch::cat(ts);
        torch::optim::SGD opt(learner.trainable(), torch::optim::SGDOptions(lr_).momentum(momentum_));
        auto gen = iclr::make_generator(ctx.seed());
        int64_t step = 0;
        learner.backbone().train();
        for (int64_t e = 0; e < epochs_; ++e) {
            auto order = torch::randperm(y.size(0), gen);
            for (int64_t i = 0; i < y.size(0); i += batch_) {
                ctx.check_cancelled();
                auto idx = order.slice(0, i, std::min(y.size(0), i + batch_));
                auto logits =
                    learner.logits(x.index_select(0, idx), -1) + mask.index_select(0, task.index_select(0, idx));
                auto loss = torch::nn::functional::cross_entropy(logits, y.index_select(0, idx));
                opt.zero_grad();
                loss.backward();
                opt.step();
                if (++step % 50 == 0) ctx.log("train_loss", loss.item<double>(), step);
            }
        }
        // Only the final row of the accuracy matrix exists for a jointly trained model.
        s.notify({iclr::EventKind::TaskEnd, int64_t(b.tasks.size()) - 1, step}, learner);
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

  private:
    double lr_, momentum_;
    int64_t epochs_, batch_;
    bool task_head_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Multitask, "multitask", "0.1.0", "",
            "joint training on the union of all tasks (the upper bound for continual methods)",
            ICLR_FLOAT("lr", 0.01, 0.0, 10.0, "SGD learning rate"),
            ICLR_FLOAT("momentum", 0.0, 0.0, 0.999, "SGD momentum"),
            ICLR_INT("epochs", 1, 1, 1000, "epochs over the union"),
            ICLR_INT("batch_size", 64, 1, 65536, "minibatch size"),
            ICLR_STRING("head", "task", "task|single",
                        "task: each example's logits masked to its task's classes; single: all classes"))
