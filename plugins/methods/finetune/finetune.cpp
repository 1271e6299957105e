// Method plugin `finetune`: plain sequential training over the benchmark's tasks with any objective
// (the forgetting baseline), optionally from a backbone pretrained on the sweep's [pretrain] data set.
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

using iclr::joined; // every task of the pretraining benchmark as one split

class Finetune : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        // The forgetting sweep's defaults (Ramasesh et al.'s setting: plain SGD), not LUMP's.
        Params() : ContinualParams(iclr::ContinualDefaults{0.01, 0.0, 64}) {}
        iclr::Int pretrain_epochs{"pretrain_epochs", 0, 0, 1000,
                                  "epochs of pretraining on [pretrain] before the tasks (0 = from scratch)"};
        iclr::Float pretrain_lr{"pretrain_lr", 0.01, 0.0, 10.0, "learning rate of the pretraining stage"};
        iclr::String pretrain_objective{
            "pretrain_objective", "supervised", "supervised|vicreg",
            "supervised: cross-entropy over [pretrain]'s classes; vicreg: self-supervised VICReg, no labels"};
    };

    Finetune(const Params& p, iclr::RunContext&)
        : ContinualMethod(p), momentum_(p.momentum), batch_(p.batch_size), optimizer_(p.optimizer()),
          pretrain_epochs_(p.pretrain_epochs), pretrain_lr_(p.pretrain_lr), objective_(p.pretrain_objective()) {}

  protected:
    void prepare(iclr::Session& s, const std::shared_ptr<iclr::Backbone>& backbone) override {
        s.ctx().set_attribute("pretrained", pretrain_epochs_ > 0 ? objective_ : "none");
        if (pretrain_epochs_ > 0) pretrain(s, backbone);
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

    double momentum_;
    int64_t batch_;
    std::string optimizer_;
    int64_t pretrain_epochs_;
    double pretrain_lr_;
    std::string objective_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Finetune, "finetune", "0.5.0",
            "Sequential fine-tuning baseline, as in Ramasesh, Lewkowycz, Dyer. Effect of scale on catastrophic "
            "forgetting in neural networks. ICLR 2022.",
            "train the tasks one after another (no replay, no regularisation) with any objective; optional "
            "pretraining on [pretrain], cached")
