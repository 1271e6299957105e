// Method plugin `lp_ft`: a linear probe on the frozen (pretrained) backbone first, then fine-tuning
// of everything from the probed head (Kumar et al., ICLR 2022).
#include "iclr/pretrain.hpp"
#include "iclr/sdk.hpp"

namespace {

class LpFt : public iclr::PretrainedMethod {
  public:
    struct Params : iclr::ContinualParams {
        Params() : ContinualParams(iclr::ContinualDefaults{0.01, 0.0, 64}) {} // finetune's, so the two compare
        iclr::PretrainParams pretrain;
        iclr::Int probe_epochs{"probe_epochs", 5, 1, 1000,
                               "epochs of the linear-probe stage on the first task, backbone frozen"};
        iclr::Float probe_lr{"probe_lr", 0.01, 0.0, 10.0,
                             "learning rate of the probe stage (the fine-tuning stage uses lr)"};
    };

    LpFt(const Params& p, iclr::RunContext&)
        : PretrainedMethod(p, p.pretrain), probe_epochs_(p.probe_epochs), probe_lr_(p.probe_lr) {
        require_supervised(p, "lp_ft");
    }

  protected:
    // Before the first task: Step 0 (the start, for feature_distortion), then the probe stage on
    // that task with the backbone frozen; returning true makes the fine-tuning optimiser, over
    // everything, fresh (no probe-stage momentum or Adam state carried into it).
    bool before_task(int64_t t) override {
        PretrainedMethod::before_task(t);
        if (t != 0) return false;
        auto& l = freezable();
        l.freeze(true);
        auto opt =
            iclr::make_optimizer(cp_.optimizer(), l.trainable(), probe_lr_, cp_.momentum, cp_.weight_decay, cp_.sam());
        l.train(true);
        const auto& task = session().benchmark().tasks.at(0);
        for (int64_t e = 0; e < probe_epochs_; ++e)
            for (const iclr::Batch& batch : iclr::Batches(task.train, cp_.batch_size, gen(), &ctx()))
                train_step(*opt, batch, 0);
        l.freeze(false);
        ctx().log("probe_steps", double(step()), step());
        return true;
    }

  private:
    int64_t probe_epochs_;
    double probe_lr_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, LpFt, "lp_ft", "0.1.0",
            "Kumar, Raghunathan, Jones, Ma, Liang. Fine-Tuning can Distort Pretrained Features and Underperform "
            "Out-of-Distribution. ICLR 2022.",
            "LP-FT: a linear probe on the frozen backbone (optionally pretrained on [pretrain], cached), then "
            "fine-tuning of everything from the probed head")
