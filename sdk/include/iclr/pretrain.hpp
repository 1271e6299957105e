// What the fine-tuning family (finetune, linear_probe, lp_ft) shares: the pretraining stage on the
// sweep's [pretrain] data set, cached under one content key so the three reuse one backbone, a
// learner whose backbone can be frozen (a linear probe trains the head only), and the method base
// that runs the stage and announces the start.
#pragma once

#include <memory>
#include <string>

#include "iclr/cache.hpp"
#include "iclr/classifier.hpp"
#include "iclr/content_key.hpp"
#include "iclr/continual.hpp"
#include "iclr/joint.hpp"
#include "iclr/vicreg.hpp"

namespace iclr {

// The pretraining settings, declared once (a method's Params holds them after ContinualParams).
struct PretrainParams {
    Int pretrain_epochs{"pretrain_epochs", 0, 0, 1000,
                        "epochs of pretraining on [pretrain] before the tasks (0 = from scratch)"};
    Float pretrain_lr{"pretrain_lr", 0.01, 0.0, 10.0, "learning rate of the pretraining stage"};
    String pretrain_objective{
        "pretrain_objective", "supervised", "supervised|vicreg",
        "supervised: cross-entropy over [pretrain]'s classes; vicreg: self-supervised VICReg, no labels"};
};

// Pretrains `backbone` on the sweep's [pretrain] data set when pretrain_epochs > 0 (supervised over
// all its classes through a temporary head, or VICReg), once per content key: later trials (other
// learning rates, other fine-tuning methods) load the same backbone from the cache. The optimiser
// and batch size are the method's (cp). Sets the trial's "pretrained" attribute.
class Pretraining {
  public:
    Pretraining(const PretrainParams& p, const ContinualParams& cp);

    void run(Session& s, const std::shared_ptr<Backbone>& backbone);

  private:
    // VICReg without labels: two views per image (random shifts of up to 2 px, Gaussian noise
    // 0.1), a 256-256 projector with BatchNorm, loss 25 inv + 25 var/2 + 1 cov (iclr/vicreg.hpp).
    void vicreg(RunContext& ctx, const Benchmark& pb, const std::shared_ptr<Backbone>& backbone, torch::Generator& gen);

    int64_t epochs_;
    double lr_;
    std::string objective_;
    int64_t batch_;
    std::string optimizer_;
    double momentum_;
    SamOptions sam_;
};

// A continual learner whose backbone can be frozen: while frozen, only the objective's head is
// trainable (the optimiser and Hessian metrics see the head alone), the backbone gets no
// gradients and stays in eval mode (BatchNorm statistics fixed): a linear probe on fixed features.
class FreezableLearner : public ContinualLearner {
  public:
    using ContinualLearner::ContinualLearner;

    void freeze(bool on);
    bool frozen() const { return frozen_; }

    std::vector<torch::Tensor> trainable() override;
    void train(bool on) override;

  private:
    bool frozen_ = false, training_ = true;
};

// A continual method that starts from the shared pretraining stage and sends Step 0 before the
// first task, so metrics that compare with the start (feature_distortion, acr) record the
// pretrained (or initial) network. Its learner is a FreezableLearner, frozen from the start when
// `frozen` (a linear probe: the first optimiser then sees the head only).
class PretrainedMethod : public ContinualMethod {
  public:
    static constexpr bool reads_pretrain = true; // its Pretraining stage reads [pretrain]
    PretrainedMethod(const ContinualParams& cp, const PretrainParams& p, bool frozen = false);

  protected:
    void prepare(Session& s, const std::shared_ptr<Backbone>& backbone) override { pretraining_.run(s, backbone); }
    std::unique_ptr<ContinualLearner> make_learner(std::shared_ptr<Backbone> backbone, const Benchmark& b,
                                                   torch::Generator views) override;
    bool before_task(int64_t t) override;
    FreezableLearner& freezable() { return *freezable_; }
    // Probing needs a classifier head: refuse the self-supervised objectives in one line.
    static void require_supervised(const ContinualParams& p, const std::string& method);

  private:
    Pretraining pretraining_;
    bool frozen_;
    FreezableLearner* freezable_ = nullptr;
};

} // namespace iclr
