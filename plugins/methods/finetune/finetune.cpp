// Method plugin `finetune`: plain sequential training over the benchmark's tasks (the forgetting
// baseline), optionally starting from a backbone pretrained on the sweep's [pretrain] data set.
#include "iclr/sdk.hpp"

namespace {

// All tasks of a benchmark as one split (supervised pretraining on every class).
iclr::Split joined(const iclr::Benchmark& b) {
    std::vector<torch::Tensor> xs, ys;
    for (const auto& t : b.tasks) {
        xs.push_back(t.train.x);
        ys.push_back(t.train.y);
    }
    return {torch::cat(xs), torch::cat(ys)};
}

class Finetune : public iclr::Method {
  public:
    Finetune(const iclr::ParamSet& p, iclr::RunContext&)
        : lr_(p.get_float("lr")), momentum_(p.get_float("momentum")), epochs_(p.get_int("epochs")),
          batch_(p.get_int("batch_size")), optimizer_(p.get_string("optimizer")), head_(p.get_string("head")),
          log_every_(p.get_int("log_every")), pretrain_epochs_(p.get_int("pretrain_epochs")),
          pretrain_lr_(p.get_float("pretrain_lr")), objective_(p.get_string("pretrain_objective")),
          reset_optimizer_(p.get_bool("reset_optimizer")) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        auto& ctx = s.ctx();
        auto backbone = s.new_backbone();
        ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
        ctx.set_attribute("pretrained", pretrain_epochs_ > 0 ? objective_ : "none");
        if (pretrain_epochs_ > 0) pretrain(s, backbone);
        torch::manual_seed(ctx.seed()); // the head starts the same whether the backbone came from the cache or not
        iclr::ClassifierLearner learner(backbone, b);
        auto opt = iclr::make_optimizer(optimizer_, learner.trainable(), lr_, momentum_);
        auto gen = iclr::make_generator(ctx.seed());
        int64_t step = 0;
        double loss_sum = 0;
        int64_t loss_n = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            // A fresh optimiser per task (Avalanche and mammoth do this): a carried one keeps
            // moving task A's head and the backbone along A's momentum while B trains.
            if (t > 0 && reset_optimizer_) opt = iclr::make_optimizer(optimizer_, learner.trainable(), lr_, momentum_);
            int64_t head_task = head_ == "task" ? int64_t(t) : -1;
            iclr::train_supervised(learner, *opt, b.tasks[t].train, head_task, epochs_, batch_, gen, ctx,
                                   [&](double loss) {
                                       ++step;
                                       loss_sum += loss;
                                       ++loss_n;
                                       if (log_every_ > 0 && step % log_every_ == 0) {
                                           ctx.log("train_loss", loss_sum / double(loss_n), step, int64_t(t));
                                           loss_sum = 0;
                                           loss_n = 0;
                                       }
                                   });
            s.notify({iclr::EventKind::TaskEnd, int64_t(t), step}, learner);
        }
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

  private:
    // Pretraining on [pretrain] (supervised over all its classes, or self-supervised VICReg), once
    // per content key; later trials (other learning rates, other fine-tuning settings) load the
    // same backbone from the cache.
    void pretrain(iclr::Session& s, const std::shared_ptr<iclr::Backbone>& backbone) {
        auto& ctx = s.ctx();
        const iclr::Benchmark* pb = s.pretrain_benchmark();
        if (!pb) throw iclr::PluginError("pretrain_epochs > 0 needs a [pretrain] data set in the sweep");
        bool ssl = objective_ == "vicreg";
        std::string key =
            iclr::ContentKey(ssl ? "finetune/vicreg-pretraining/v2" : "finetune/supervised-pretraining/v2")
                .add("pretrain", s.config_text("pretrain"))
                .add("model", s.config_text("model"))
                .add("epochs", pretrain_epochs_)
                .add("lr", pretrain_lr_)
                .add("batch", batch_)
                .add("optimizer", optimizer_)
                .add("momentum", momentum_)
                .add("seed", ctx.seed())
                .hex();
        iclr::BackboneCache::load_or_build(ctx, key, *backbone, [&] {
            torch::manual_seed(ctx.seed());
            auto gen = iclr::make_generator(ctx.seed() ^ 0x9e3779b97f4a7c15ULL);
            if (ssl) return pretrain_vicreg(ctx, *pb, backbone, gen);
            iclr::ClassifierLearner probe(backbone, *pb); // a temporary head over the pretraining classes
            auto opt = iclr::make_optimizer(optimizer_, probe.trainable(), pretrain_lr_, momentum_);
            double last = 0;
            int64_t steps = iclr::train_supervised(probe, *opt, joined(*pb), -1, pretrain_epochs_, batch_, gen, ctx,
                                                   [&](double l) { last = l; });
            ctx.info("pretrained (supervised) on " + pb->name + ": " + std::to_string(steps) + " steps, last loss " +
                     std::to_string(last));
        });
    }

    // VICReg without labels: two views per image (random shifts of up to 2 px, Gaussian noise
    // 0.1), a 256-256 projector with BatchNorm, loss 25 inv + 25 var/2 + 1 cov (iclr/vicreg.hpp).
    void pretrain_vicreg(iclr::RunContext& ctx, const iclr::Benchmark& pb,
                         const std::shared_ptr<iclr::Backbone>& backbone, torch::Generator& gen) {
        torch::nn::Sequential projector(torch::nn::Linear(backbone->feature_dim(), 256), torch::nn::BatchNorm1d(256),
                                        torch::nn::ReLU(), torch::nn::Linear(256, 256));
        auto params = backbone->parameters();
        for (auto& p : projector->parameters())
            params.push_back(p);
        auto opt = iclr::make_optimizer(optimizer_, params, pretrain_lr_, momentum_);
        iclr::Split data = joined(pb);
        double fill = data.x.min().item<double>(); // the background value after normalisation
        auto augment = iclr::compose({iclr::random_shift(2, fill), iclr::gaussian_noise(0.1)});
        backbone->train();
        projector->train();
        int64_t steps = 0;
        iclr::VicregTerms last;
        for (int64_t e = 0; e < pretrain_epochs_; ++e) {
            auto order = torch::randperm(data.size(), gen);
            for (int64_t i = 0; i + 1 < data.size(); i += batch_) {
                ctx.check_cancelled();
                auto x = data.x.index_select(0, order.slice(0, i, std::min(data.size(), i + batch_)));
                if (x.size(0) < 2) continue; // variance needs two examples
                auto [v1, v2] = iclr::two_views(augment, x, gen);
                last =
                    iclr::vicreg(projector->forward(backbone->forward(v1)), projector->forward(backbone->forward(v2)));
                opt->zero_grad();
                last.loss.backward();
                opt->step();
                ++steps;
            }
        }
        ctx.info("pretrained (VICReg) on " + pb.name + ": " + std::to_string(steps) + " steps, last loss " +
                 std::to_string(last.loss.item<double>()) + " (inv " + std::to_string(last.invariance.item<double>()) +
                 ", var " + std::to_string(last.variance.item<double>()) + ", cov " +
                 std::to_string(last.covariance.item<double>()) + ")");
    }

    double lr_, momentum_;
    int64_t epochs_, batch_;
    std::string optimizer_, head_;
    int64_t log_every_, pretrain_epochs_;
    double pretrain_lr_;
    std::string objective_;
    bool reset_optimizer_;
};

} // namespace

ICLR_PLUGIN(
    iclr::Method, Finetune, "finetune", "0.4.0",
    "Sequential fine-tuning baseline, as in Ramasesh, Lewkowycz, Dyer. Effect of scale on catastrophic "
    "forgetting in neural networks. ICLR 2022.",
    "train the tasks one after another (no replay, no regularisation); optional supervised pretraining on "
    "[pretrain], cached",
    ICLR_FLOAT("lr", 0.01, 0.0, 10.0, "learning rate"), ICLR_FLOAT("momentum", 0.0, 0.0, 0.999, "SGD momentum"),
    ICLR_INT("epochs", 1, 1, 1000, "epochs per task"), ICLR_INT("batch_size", 64, 1, 65536, "minibatch size"),
    ICLR_STRING("optimizer", "sgd", "sgd|adam", "optimiser"),
    ICLR_STRING("head", "task", "task|single",
                "task: logits masked to the task's classes (task-incremental, = one head per task); single: "
                "one head over all classes (class-incremental)"),
    ICLR_INT("log_every", 50, 0, 1000000, "log the mean training loss every N steps (0 = never)"),
    ICLR_INT("pretrain_epochs", 0, 0, 1000, "epochs of supervised pretraining on [pretrain] (0 = from scratch)"),
    ICLR_FLOAT("pretrain_lr", 0.01, 0.0, 10.0, "learning rate of the pretraining stage"),
    ICLR_STRING("pretrain_objective", "supervised", "supervised|vicreg",
                "supervised: cross-entropy over [pretrain]'s classes; vicreg: self-supervised VICReg, no labels"),
    ICLR_BOOL("reset_optimizer", true,
              "a fresh optimiser (no momentum or Adam state) for each task; false carries it from task to task"))
