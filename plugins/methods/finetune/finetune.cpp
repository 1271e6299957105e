// Method plugin `finetune`: plain sequential SGD over the benchmark's tasks (the forgetting baseline).
#include "iclr/sdk.hpp"

namespace {

class Finetune : public iclr::Method {
public:
    Finetune(const iclr::ParamSet& p, iclr::RunContext&)
        : lr_(p.get_float("lr")), momentum_(p.get_float("momentum")), epochs_(p.get_int("epochs")),
          batch_(p.get_int("batch_size")), optimizer_(p.get_string("optimizer")), head_(p.get_string("head")),
          log_every_(p.get_int("log_every")) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        auto& ctx = s.ctx();
        iclr::ClassifierLearner learner(s.new_backbone(), b);
        ctx.set_attribute("param_count", std::to_string(learner.backbone().param_count()));
        std::unique_ptr<torch::optim::Optimizer> opt;
        if (optimizer_ == "adam") opt = std::make_unique<torch::optim::Adam>(learner.trainable(), torch::optim::AdamOptions(lr_));
        else opt = std::make_unique<torch::optim::SGD>(learner.trainable(), torch::optim::SGDOptions(lr_).momentum(momentum_));
        auto gen = at::detail::createCPUGenerator(ctx.seed());
        int64_t step = 0;
        double loss_sum = 0;
        int64_t loss_n = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            const iclr::Task& task = b.tasks[t];
            int64_t head_task = head_ == "task" ? int64_t(t) : -1;
            learner.backbone().train();
            for (int64_t e = 0; e < epochs_; ++e) {
                auto order = torch::randperm(task.train.size(), gen);
                for (int64_t i = 0; i < task.train.size(); i += batch_) {
                    ctx.check_cancelled();
                    auto idx = order.slice(0, i, std::min(task.train.size(), i + batch_));
                    auto x = task.train.x.index_select(0, idx), y = task.train.y.index_select(0, idx);
                    opt->zero_grad();
                    auto loss = torch::nn::functional::cross_entropy(learner.logits(x, head_task), y);
                    loss.backward();
                    opt->step();
                    ++step;
                    loss_sum += loss.item<double>();
                    ++loss_n;
                    if (log_every_ > 0 && step % log_every_ == 0) {
                        ctx.log("train_loss", loss_sum / double(loss_n), step, int64_t(t));
                        loss_sum = 0;
                        loss_n = 0;
                    }
                }
            }
            s.notify({iclr::EventKind::TaskEnd, int64_t(t), step}, learner);
        }
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

private:
    double lr_, momentum_;
    int64_t epochs_, batch_;
    std::string optimizer_, head_;
    int64_t log_every_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Finetune, "finetune", "0.1.0",
            "Sequential fine-tuning baseline, as in Ramasesh, Lewkowycz, Dyer. Effect of scale on catastrophic forgetting in neural networks. ICLR 2022.",
            "train the tasks one after another with SGD/Adam, no replay or regularisation",
            ICLR_FLOAT("lr", 0.01, 0.0, 10.0, "learning rate"),
            ICLR_FLOAT("momentum", 0.0, 0.0, 0.999, "SGD momentum"),
            ICLR_INT("epochs", 1, 1, 1000, "epochs per task"),
            ICLR_INT("batch_size", 64, 1, 65536, "minibatch size"),
            ICLR_STRING("optimizer", "sgd", "sgd|adam", "optimiser"),
            ICLR_STRING("head", "task", "task|single", "task: logits masked to the task's classes (task-incremental); single: one head over all classes (class-incremental)"),
            ICLR_INT("log_every", 50, 0, 1000000, "log the mean training loss every N steps (0 = never)"))
