// The pretraining stage the fine-tuning family shares, a freezable learner, the method base
// (iclr/pretrain.hpp).
#include "iclr/pretrain.hpp"

namespace iclr {

Pretraining::Pretraining(const PretrainParams& p, const ContinualParams& cp)
    : epochs_(p.pretrain_epochs), lr_(p.pretrain_lr), objective_(p.pretrain_objective()), batch_(cp.batch_size),
      optimizer_(cp.optimizer()), momentum_(cp.momentum), sam_(cp.sam()) {}

void Pretraining::run(Session& s, const std::shared_ptr<Backbone>& backbone) {
    s.ctx().set_attribute("pretrained", epochs_ > 0 ? objective_ : "none");
    if (epochs_ == 0) return;
    auto& ctx = s.ctx();
    const Benchmark* pb = s.pretrain_benchmark();
    if (!pb) throw PluginError("pretrain_epochs > 0 needs a [pretrain] data set in the sweep");
    bool ssl = objective_ == "vicreg";
    // The key strings are finetune's since 0.4: caches built by earlier versions stay valid.
    ContentKey content(ssl ? "finetune/vicreg-pretraining/v2" : "finetune/supervised-pretraining/v2");
    if (optimizer_ == "sam") // only then, so that the keys of earlier caches stay what they were
        content.add("sam_base", sam_.base).add("sam_rho", sam_.rho).add("sam_adaptive", sam_.adaptive);
    std::string key = content.add("pretrain", s.config_text("pretrain"))
                          .add("model", s.config_text("model"))
                          .add("epochs", epochs_)
                          .add("lr", lr_)
                          .add("batch", batch_)
                          .add("optimizer", optimizer_)
                          .add("momentum", momentum_)
                          .add("seed", ctx.seed())
                          .hex();
    BackboneCache::load_or_build(ctx, key, *backbone, [&] {
        torch::manual_seed(ctx.seed());
        auto gen = make_generator(ctx.seed() ^ 0x9e3779b97f4a7c15ULL);
        if (ssl) return vicreg(ctx, *pb, backbone, gen);
        ClassifierLearner probe(backbone, *pb); // a temporary head over the pretraining classes
        auto opt = make_optimizer(optimizer_, probe.trainable(), lr_, momentum_, 0.0, sam_);
        double last = 0;
        int64_t steps =
            train_supervised(probe, *opt, joined(*pb), -1, epochs_, batch_, gen, ctx, [&](double l) { last = l; });
        ctx.info("pretrained (supervised) on " + pb->name + ": " + std::to_string(steps) + " steps, last loss " +
                 std::to_string(last));
    });
}

void Pretraining::vicreg(RunContext& ctx, const Benchmark& pb, const std::shared_ptr<Backbone>& backbone,
                         torch::Generator& gen) {
    torch::nn::Sequential projector(torch::nn::Linear(backbone->feature_dim(), 256), torch::nn::BatchNorm1d(256),
                                    torch::nn::ReLU(), torch::nn::Linear(256, 256));
    projector->to(module_device(*backbone));
    auto params = backbone->parameters();
    for (auto& p : projector->parameters())
        params.push_back(p);
    auto opt = make_optimizer(optimizer_, params, lr_, momentum_, 0.0, sam_);
    Split data = joined(pb);
    double fill = data.x.min().item<double>(); // the background value after normalisation
    auto augment = compose({random_shift(2, fill), gaussian_noise(0.1)});
    backbone->train();
    projector->train();
    int64_t steps = 0;
    VicregTerms last;
    for (int64_t e = 0; e < epochs_; ++e)
        for (const Batch& b : Batches(data, batch_, gen, &ctx)) {
            if (b.x.size(0) < 2) continue; // variance needs two examples
            auto [v1, v2] = two_views(augment, b.x, gen);
            bool first = true; // SAM evaluates the loss twice; report the one at the weights
            optimizer_step(*opt, [&] {
                auto terms =
                    iclr::vicreg(projector->forward(backbone->forward(v1)), projector->forward(backbone->forward(v2)));
                if (first) last = terms;
                first = false;
                return terms.loss;
            });
            ++steps;
        }
    ctx.info("pretrained (VICReg) on " + pb.name + ": " + std::to_string(steps) + " steps, last loss " +
             std::to_string(last.loss.item<double>()) + " (inv " + std::to_string(last.invariance.item<double>()) +
             ", var " + std::to_string(last.variance.item<double>()) + ", cov " +
             std::to_string(last.covariance.item<double>()) + ")");
}

void FreezableLearner::freeze(bool on) {
    frozen_ = on;
    for (auto& p : backbone_->parameters())
        p.requires_grad_(!on);
    train(training_);
}

std::vector<torch::Tensor> FreezableLearner::trainable() {
    if (!frozen_) return ContinualLearner::trainable();
    std::vector<torch::Tensor> out;
    for (auto& o : objectives_)
        for (auto& t : o.parameters())
            out.push_back(t);
    return out;
}

void FreezableLearner::train(bool on) {
    training_ = on;
    ContinualLearner::train(on);
    if (frozen_) backbone_->eval();
}

PretrainedMethod::PretrainedMethod(const ContinualParams& cp, const PretrainParams& p, bool frozen)
    : ContinualMethod(cp), pretraining_(p, cp), frozen_(frozen) {}

std::unique_ptr<ContinualLearner> PretrainedMethod::make_learner(std::shared_ptr<Backbone> backbone, const Benchmark& b,
                                                                 torch::Generator views) {
    auto l = std::make_unique<FreezableLearner>(std::move(backbone), b, cp_, std::move(views));
    if (frozen_) l->freeze(true);
    freezable_ = l.get();
    return l;
}

bool PretrainedMethod::before_task(int64_t t) {
    if (t == 0) session().notify({EventKind::Step, 0, 0}, learner());
    return false;
}

void PretrainedMethod::require_supervised(const ContinualParams& p, const std::string& method) {
    if (p.objective() != "supervised")
        throw PluginError(method + " trains a classifier head on the features: objective must be \"supervised\"");
}

} // namespace iclr
