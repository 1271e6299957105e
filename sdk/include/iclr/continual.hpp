// Continual methods written one way: ContinualLearner (a backbone plus what the objective needs)
// and ContinualMethod (tasks, epochs, batches) with hooks a method overrides. The objective is a
// parameter of every continual method: "supervised" (cross-entropy), "simsiam" or "barlow" (two
// augmented views, no labels), so a regulariser (SI, EWC), a buffer (DER, LUMP) or an
// architecture (PNN) is written once, as hooks, and runs with each objective.
#pragma once

#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "iclr/augment.hpp"
#include "iclr/declare.hpp"
#include "iclr/method.hpp"
#include "iclr/params.hpp"
#include "iclr/ssl_losses.hpp"
#include "iclr/training.hpp"

namespace iclr {

// What a method may change in its declaration of the shared parameters (finetune keeps the
// forgetting sweep's defaults; the LUMP-table methods take LUMP's official code's).
struct ContinualDefaults {
    double lr = 0.03;      // LUMP's code: SGD lr 0.03
    double momentum = 0.9; // LUMP's code: momentum 0.9
    int64_t batch_size = 64;
    const char* objective = "supervised";
};

// The parameters every continual method shares, declared once: a method's Params derives from
// this struct and declares its own fields after these.
struct ContinualParams {
    // Not explicit: a derived Params is an aggregate whose base is built from {}.
    ContinualParams(const ContinualDefaults& d = {});

    Float lr, momentum, weight_decay;
    Int epochs, batch_size;
    String optimizer, objective, head;
    Bool reset_optimizer;
    Int log_every, proj_dim;
    Float crop_min_scale, contrast, noise;
    Float sam_rho;
    Bool sam_adaptive;
    String sam_base;

    SamOptions sam() const { return {sam_base(), sam_rho, sam_adaptive}; }
};

// The heads an objective trains on top of the features: a linear classifier over all classes
// (supervised); projector and predictor (SimSiam: Linear-BN-ReLU-Linear-BN, predictor
// Linear-BN-ReLU-Linear with hidden proj_dim / 4); projector (Barlow Twins: Linear-BN-ReLU-Linear).
class Objective {
  public:
    Objective(const ContinualParams& p, int64_t feature_dim, int64_t num_classes);
    bool supervised() const { return kind_ == "supervised"; }
    const std::string& kind() const { return kind_; }
    torch::nn::Linear& head() { return head_; }

    // The self-supervised loss of two views' features.
    torch::Tensor ssl_loss(const torch::Tensor& f1, const torch::Tensor& f2);
    std::vector<torch::Tensor> parameters() const;
    void train(bool on);
    // Moves the heads to a device (the backbone's: iclr::module_device). Appended in 2.8.
    void to(const torch::Device& device);

  private:
    std::vector<std::shared_ptr<torch::nn::Module>> modules() const;

    std::string kind_;
    torch::nn::Linear head_;
    torch::nn::Sequential projector_{nullptr}, predictor_{nullptr};
};

// A backbone and the objective's heads, with the objective's loss on a batch. PNN derives from it
// (features that depend on the task); everything else uses it as it is.
class ContinualLearner : public Learner, public TaskFeatures {
  public:
    ContinualLearner(std::shared_ptr<Backbone> backbone, const Benchmark& bench, const ContinualParams& p,
                     torch::Generator views);
    ~ContinualLearner() override;

    Backbone& backbone() override { return *backbone_; }
    Objective& objective(int64_t task = -1) { return objectives_.at(objective_index(task)); }
    bool supervised() const { return objectives_.front().supervised(); }

    torch::Tensor features(const torch::Tensor& x) override { return task_features(x, -1); }
    torch::Tensor task_features(const torch::Tensor& x, int64_t) override { return backbone_->forward(x); }

    // Supervised objective only: the head's logits, masked to the task's classes when task >= 0.
    torch::Tensor logits(const torch::Tensor& x, int64_t task) override;

    // The objective's loss on a batch of task `task`. Supervised: cross-entropy, each example's
    // logits masked to its own task's classes (example_tasks; default: all from `task`) when
    // head = "task". Self-supervised: two augmented views of x, labels unused.
    torch::Tensor loss_on(const torch::Tensor& x, const torch::Tensor& y, int64_t task,
                          const torch::Tensor& example_tasks = {});
    // The self-supervised loss of two given views (LUMP mixes them before this).
    torch::Tensor ssl_loss_on_views(const torch::Tensor& v1, const torch::Tensor& v2, int64_t task);
    // Two augmented views of x, drawn from the trial's view generator.
    std::pair<torch::Tensor, torch::Tensor> views(const torch::Tensor& x);
    // The generator views are drawn from (SAM's second pass rewinds it).
    torch::Generator& view_generator() { return views_; }

    std::vector<torch::Tensor> trainable() override;
    // Training mode for the backbone and the heads.
    virtual void train(bool on);

  protected:
    // Which objective serves a task (PNN keeps one per column; everything else has one).
    virtual size_t objective_index(int64_t) const { return 0; }
    std::vector<Objective> objectives_;
    std::shared_ptr<Backbone> backbone_;

  private:
    torch::Tensor head_logits(const torch::Tensor& features, int64_t task);
    // Logits [N, classes] with -inf outside each example's task's classes.
    torch::Tensor masked(const torch::Tensor& out, const torch::Tensor& example_tasks);
    // [N, classes]: 0 on each example's task's classes, -inf elsewhere.
    torch::Tensor class_mask(const torch::Tensor& example_tasks);

    const Benchmark& bench_;
    const ContinualParams& params_;
    torch::Generator views_;
    Augment augment_;
    torch::Tensor mask_;
};

// The loop every continual method shares: for each task, `epochs` passes of shuffled batches, one
// optimiser step per batch on loss_on(...) plus the method's extra terms, then TaskEnd to the
// metrics. A method overrides the hooks it needs; each is a no-op by default.
class ContinualMethod : public Method {
  public:
    explicit ContinualMethod(const ContinualParams& p);
    ~ContinualMethod() override;

    void run(Session& s) override;

  protected:
    // Before the learner exists: finetune's pretraining stage.
    virtual void prepare(Session&, const std::shared_ptr<Backbone>&) {}
    virtual std::unique_ptr<ContinualLearner> make_learner(std::shared_ptr<Backbone> backbone, const Benchmark& b,
                                                           torch::Generator views);
    // Before task t trains; true when the trainable parameters changed (a new optimiser is made).
    virtual bool before_task(int64_t) { return false; }
    // The batch's loss; by default the objective's (LUMP mixes the views first).
    virtual torch::Tensor batch_loss(const Batch& b, int64_t t);
    // A term added to the batch's loss (a regulariser's penalty, a replayed batch); undefined = none.
    virtual torch::Tensor extra_loss(const Batch&, int64_t) { return {}; }
    // After backward, before the optimiser step (A-GEM projects here; SI reads the gradient).
    virtual void after_backward(int64_t) {}
    // After the optimiser step (SI's path integral, buffers adding the batch).
    virtual void after_step(const Batch&, int64_t) {}
    // After task t's last step, before its TaskEnd (EWC's Fisher, SI's importance, PNN's freeze).
    virtual void after_task(int64_t) {}
    // After the last task, before End (methods log their own totals here).
    virtual void finish() {}

    // The set-up every run shares: backbone, prepare(), learner (heads drawn after
    // manual_seed(seed), so they start the same whether the backbone came from a cache), optimiser,
    // the data-order generator and the method's own draws (rng()).
    std::unique_ptr<torch::optim::Optimizer> start(Session& s);
    // One optimiser step on batch_loss + extra_loss, with the hooks around it. The loss is a
    // closure of the step, so SAM evaluates it twice: at w and at w + e (perturbed_pass()), with
    // every draw (views, replay samples, mixup) rewound to repeat the first pass's.
    void train_step(torch::optim::Optimizer& opt, const Batch& batch, int64_t t);
    // SAM's second pass (the loss at w + e) is running: hooks that log or accumulate skip it, and
    // after_backward's gradient is then the one the step follows.
    bool perturbed_pass() const { return pass_ > 0; }
    // A generator of the method's own whose draws SAM's second pass must repeat (essl's rotations).
    void rewind_with(torch::Generator& g) { rewound_.push_back(&g); }
    std::unique_ptr<torch::optim::Optimizer> new_optimizer();
    ContinualLearner& learner() { return *learner_; }
    Session& session() { return *session_; }
    RunContext& ctx() { return session_->ctx(); }
    torch::Generator& gen() { return gen_; }
    std::mt19937_64& rng() { return rng_; }
    int64_t step() const { return step_; }

    const ContinualParams cp_; // a copy: the host's Params object is a temporary

  private:
    struct Draws {
        std::vector<torch::Generator> generators;
        std::mt19937_64 rng;
    };
    Draws save_draws();
    void restore_draws(const Draws& d);

    Session* session_ = nullptr;
    std::unique_ptr<ContinualLearner> learner_;
    std::vector<torch::Generator*> rewound_;
    int pass_ = 0;
    torch::Generator gen_;
    std::mt19937_64 rng_;
    int64_t step_ = 0, loss_n_ = 0;
    double loss_sum_ = 0;
};

// A mixup coefficient lambda ~ Beta(alpha, alpha) (LUMP: alpha = 0.4), drawn as X / (X + Y) with
// X, Y ~ Gamma(alpha, 1).
double sample_beta(double a, double b, std::mt19937_64& rng);

} // namespace iclr
