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
    ContinualParams(const ContinualDefaults& d = {})
        : lr{"lr", d.lr, 0.0, 10.0, "learning rate"}, momentum{"momentum", d.momentum, 0.0, 0.999, "SGD momentum"},
          weight_decay{"weight_decay", 0.0, 0.0, 1.0, "L2 weight decay in the optimiser (LUMP's code: 5e-4)"},
          epochs{"epochs", 1, 1, 1000, "epochs per task"}, batch_size{"batch_size", d.batch_size, 2, 65536,
                                                                      "minibatch size"},
          optimizer{"optimizer", "sgd", "sgd|adam|adamw|sam",
                    "optimiser (sam: Sharpness-Aware "
                    "Minimization around sam_base)"},
          objective{"objective", d.objective, "supervised|simsiam|barlow",
                    "supervised: cross-entropy on the labels; simsiam, barlow: self-supervised on two augmented "
                    "views (labels unused; evaluate with knn_accuracy or linear_probe)"},
          head{"head", "task", "task|class",
               "supervised objective: task = logits masked to the example's task (task-incremental); class = one "
               "head over all classes (class-incremental)"},
          reset_optimizer{"reset_optimizer", true,
                          "a fresh optimiser (no momentum or Adam state) for each task; false carries it over"},
          log_every{"log_every", 50, 0, 1000000, "log the mean training loss every N steps (0 = never)"},
          proj_dim{"proj_dim", 256, 4, 65536,
                   "SSL objectives: projector width and output size (SimSiam's predictor hidden = proj_dim / 4)"},
          crop_min_scale{"crop_min_scale", 0.5, 0.01, 1.0,
                         "SSL views: random resized crop area ~ U(crop_min_scale, 1) (LUMP/SimSiam on CIFAR: 0.2; "
                         "a fifth of a 28x28 digit is often one stroke)"},
          contrast{"contrast", 0.4, 0.0, 1.0, "SSL views: contrast factor ~ U(1 - c, 1 + c) (LUMP's ColorJitter: 0.4)"},
          noise{"noise", 0.0, 0.0, 10.0, "SSL views: Gaussian noise sd added last (0 = none)"},
          sam_rho{"sam_rho", 0.05, 0.0, 10.0, "optimizer = sam: neighbourhood radius rho (Foret et al.: 0.05)"},
          sam_adaptive{"sam_adaptive", false, "optimizer = sam: ASAM's radius scaled by |w| per weight"},
          sam_base{"sam_base", "sgd", "sgd|adam|adamw", "optimizer = sam: the optimiser that takes the step"} {}

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
    Objective(const ContinualParams& p, int64_t feature_dim, int64_t num_classes)
        : kind_(p.objective()), head_(nullptr) {
        int64_t d = p.proj_dim;
        if (kind_ == "supervised") {
            head_ = torch::nn::Linear(feature_dim, num_classes);
        } else if (kind_ == "simsiam") {
            projector_ = torch::nn::Sequential(torch::nn::Linear(feature_dim, d), torch::nn::BatchNorm1d(d),
                                               torch::nn::ReLU(), torch::nn::Linear(d, d), torch::nn::BatchNorm1d(d));
            predictor_ = torch::nn::Sequential(torch::nn::Linear(d, d / 4), torch::nn::BatchNorm1d(d / 4),
                                               torch::nn::ReLU(), torch::nn::Linear(d / 4, d));
        } else if (kind_ == "barlow") {
            projector_ = torch::nn::Sequential(torch::nn::Linear(feature_dim, d), torch::nn::BatchNorm1d(d),
                                               torch::nn::ReLU(), torch::nn::Linear(d, d));
        } else {
            throw PluginError("unknown objective '" + kind_ + "' (supervised, simsiam, barlow)");
        }
    }
    bool supervised() const { return kind_ == "supervised"; }
    const std::string& kind() const { return kind_; }
    torch::nn::Linear& head() { return head_; }

    // The self-supervised loss of two views' features.
    torch::Tensor ssl_loss(const torch::Tensor& f1, const torch::Tensor& f2) {
        auto z1 = projector_->forward(f1), z2 = projector_->forward(f2);
        if (kind_ == "barlow") return barlow_twins_loss(z1, z2).loss;
        return simsiam_loss(predictor_->forward(z1), predictor_->forward(z2), z1, z2);
    }
    std::vector<torch::Tensor> parameters() const {
        std::vector<torch::Tensor> out;
        for (const auto& m : modules())
            for (auto& t : m->parameters())
                out.push_back(t);
        return out;
    }
    void train(bool on) {
        for (const auto& m : modules())
            m->train(on);
    }

  private:
    std::vector<std::shared_ptr<torch::nn::Module>> modules() const {
        std::vector<std::shared_ptr<torch::nn::Module>> out;
        if (!head_.is_empty()) out.push_back(head_.ptr());
        if (!projector_.is_empty()) out.push_back(projector_.ptr());
        if (!predictor_.is_empty()) out.push_back(predictor_.ptr());
        return out;
    }

    std::string kind_;
    torch::nn::Linear head_;
    torch::nn::Sequential projector_{nullptr}, predictor_{nullptr};
};

// A backbone and the objective's heads, with the objective's loss on a batch. PNN derives from it
// (features that depend on the task); everything else uses it as it is.
class ContinualLearner : public Learner, public TaskFeatures {
  public:
    ContinualLearner(std::shared_ptr<Backbone> backbone, const Benchmark& bench, const ContinualParams& p,
                     torch::Generator views)
        : backbone_(std::move(backbone)), bench_(bench), params_(p), views_(std::move(views)) {
        objectives_.emplace_back(p, backbone_->feature_dim(), bench.num_classes);
        std::vector<Augment> steps{random_resized_crop(p.crop_min_scale, 1.0)};
        if (p.contrast > 0) steps.push_back(random_contrast(1.0 - p.contrast, 1.0 + p.contrast));
        if (p.noise > 0) steps.push_back(gaussian_noise(p.noise));
        augment_ = compose(std::move(steps));
    }

    Backbone& backbone() override { return *backbone_; }
    Objective& objective(int64_t task = -1) { return objectives_.at(objective_index(task)); }
    bool supervised() const { return objectives_.front().supervised(); }

    torch::Tensor features(const torch::Tensor& x) override { return task_features(x, -1); }
    torch::Tensor task_features(const torch::Tensor& x, int64_t) override { return backbone_->forward(x); }

    // Supervised objective only: the head's logits, masked to the task's classes when task >= 0.
    torch::Tensor logits(const torch::Tensor& x, int64_t task) override {
        auto out = head_logits(task_features(x, task), task);
        return task < 0 ? out : masked(out, torch::full({x.size(0)}, task, torch::kLong));
    }

    // The objective's loss on a batch of task `task`. Supervised: cross-entropy, each example's
    // logits masked to its own task's classes (example_tasks; default: all from `task`) when
    // head = "task". Self-supervised: two augmented views of x, labels unused.
    torch::Tensor loss_on(const torch::Tensor& x, const torch::Tensor& y, int64_t task,
                          const torch::Tensor& example_tasks = {}) {
        if (!supervised()) {
            auto [v1, v2] = views(x);
            return ssl_loss_on_views(v1, v2, task);
        }
        auto out = head_logits(task_features(x, task), task);
        if (params_.head() == "task")
            out = masked(out, example_tasks.defined() ? example_tasks : torch::full({x.size(0)}, task, torch::kLong));
        return torch::nn::functional::cross_entropy(out, y);
    }
    // The self-supervised loss of two given views (LUMP mixes them before this).
    torch::Tensor ssl_loss_on_views(const torch::Tensor& v1, const torch::Tensor& v2, int64_t task) {
        return objective(task).ssl_loss(task_features(v1, task), task_features(v2, task));
    }
    // Two augmented views of x, drawn from the trial's view generator.
    std::pair<torch::Tensor, torch::Tensor> views(const torch::Tensor& x) { return two_views(augment_, x, views_); }
    // The generator views are drawn from (SAM's second pass rewinds it).
    torch::Generator& view_generator() { return views_; }

    std::vector<torch::Tensor> trainable() override {
        auto out = backbone_->parameters();
        for (auto& o : objectives_)
            for (auto& t : o.parameters())
                out.push_back(t);
        return out;
    }
    // Training mode for the backbone and the heads.
    virtual void train(bool on) {
        backbone_->train(on);
        for (auto& o : objectives_)
            o.train(on);
    }

  protected:
    // Which objective serves a task (PNN keeps one per column; everything else has one).
    virtual size_t objective_index(int64_t) const { return 0; }
    std::vector<Objective> objectives_;
    std::shared_ptr<Backbone> backbone_;

  private:
    torch::Tensor head_logits(const torch::Tensor& features, int64_t task) {
        Objective& o = objective(task);
        if (!o.supervised())
            throw PluginError("objective '" + o.kind() +
                              "' trains no classifier head: evaluate it with knn_accuracy or linear_probe");
        return o.head()->forward(features);
    }
    // Logits [N, classes] with -inf outside each example's task's classes.
    torch::Tensor masked(const torch::Tensor& out, const torch::Tensor& example_tasks) {
        return out + class_mask(example_tasks).to(out.dtype());
    }
    // [N, classes]: 0 on each example's task's classes, -inf elsewhere.
    torch::Tensor class_mask(const torch::Tensor& example_tasks) {
        if (!mask_.defined()) {
            mask_ = torch::full({int64_t(bench_.tasks.size()), bench_.num_classes},
                                -std::numeric_limits<float>::infinity());
            for (size_t t = 0; t < bench_.tasks.size(); ++t)
                for (int64_t c : bench_.tasks[t].classes)
                    mask_[int64_t(t)][c] = 0.0f;
        }
        return mask_.index_select(0, example_tasks);
    }

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
    explicit ContinualMethod(const ContinualParams& p) : cp_(p) {}

    void run(Session& s) override {
        auto opt = start(s);
        const Benchmark& b = s.benchmark();
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            // A fresh optimiser per task (Avalanche and mammoth do this): a carried one keeps
            // moving the last task's head and the backbone along its momentum.
            if (before_task(int64_t(t)) || (t > 0 && cp_.reset_optimizer)) opt = new_optimizer();
            learner_->train(true);
            for (int64_t e = 0; e < cp_.epochs; ++e)
                for (const Batch& batch : Batches(b.tasks[t].train, cp_.batch_size, gen_, &s.ctx()))
                    train_step(*opt, batch, int64_t(t));
            after_task(int64_t(t));
            s.notify({EventKind::TaskEnd, int64_t(t), step_}, *learner_);
        }
        finish();
        s.notify({EventKind::End, int64_t(b.tasks.size()) - 1, step_}, *learner_);
    }

  protected:
    // Before the learner exists: finetune's pretraining stage.
    virtual void prepare(Session&, const std::shared_ptr<Backbone>&) {}
    virtual std::unique_ptr<ContinualLearner> make_learner(std::shared_ptr<Backbone> backbone, const Benchmark& b,
                                                           torch::Generator views) {
        return std::make_unique<ContinualLearner>(std::move(backbone), b, cp_, std::move(views));
    }
    // Before task t trains; true when the trainable parameters changed (a new optimiser is made).
    virtual bool before_task(int64_t) { return false; }
    // The batch's loss; by default the objective's (LUMP mixes the views first).
    virtual torch::Tensor batch_loss(const Batch& b, int64_t t) { return learner_->loss_on(b.x, b.y, t); }
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
    std::unique_ptr<torch::optim::Optimizer> start(Session& s) {
        session_ = &s;
        RunContext& ctx = s.ctx();
        auto backbone = s.new_backbone();
        ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
        prepare(s, backbone);
        torch::manual_seed(ctx.seed());
        learner_ = make_learner(backbone, s.benchmark(), make_generator(ctx.seed(), 2));
        auto opt = new_optimizer();
        gen_ = make_generator(ctx.seed());
        rng_.seed(ctx.seed() ^ 0x5851f42d4c957f2dULL);
        return opt;
    }
    // One optimiser step on batch_loss + extra_loss, with the hooks around it. The loss is a
    // closure of the step, so SAM evaluates it twice: at w and at w + e (perturbed_pass()), with
    // every draw (views, replay samples, mixup) rewound to repeat the first pass's.
    void train_step(torch::optim::Optimizer& opt, const Batch& batch, int64_t t) {
        // The SSL heads batch-normalise: a last batch of one example has no batch statistics.
        if (!learner_->supervised() && batch.x.size(0) < 2) return;
        Draws draws;
        if (dynamic_cast<Sam*>(&opt)) draws = save_draws();
        torch::Tensor first;
        pass_ = 0;
        opt.step([&] {
            if (pass_ > 0) restore_draws(draws);
            opt.zero_grad();
            auto loss = batch_loss(batch, t);
            auto extra = extra_loss(batch, t);
            auto total = extra.defined() ? loss + extra : loss;
            total.backward();
            after_backward(t);
            if (pass_++ == 0) first = total.detach();
            return total;
        });
        pass_ = 0;
        ++step_;
        after_step(batch, t);
        loss_sum_ += first.item<double>();
        ++loss_n_;
        if (cp_.log_every > 0 && step_ % cp_.log_every == 0) {
            ctx().log("train_loss", loss_sum_ / double(loss_n_), step_, t);
            loss_sum_ = 0;
            loss_n_ = 0;
        }
    }
    // SAM's second pass (the loss at w + e) is running: hooks that log or accumulate skip it, and
    // after_backward's gradient is then the one the step follows.
    bool perturbed_pass() const { return pass_ > 0; }
    // A generator of the method's own whose draws SAM's second pass must repeat (essl's rotations).
    void rewind_with(torch::Generator& g) { rewound_.push_back(&g); }
    std::unique_ptr<torch::optim::Optimizer> new_optimizer() {
        return make_optimizer(cp_.optimizer(), learner_->trainable(), cp_.lr, cp_.momentum, cp_.weight_decay,
                              cp_.sam());
    }
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
    Draws save_draws() {
        Draws d{{learner_->view_generator().clone()}, rng_};
        for (auto* g : rewound_)
            d.generators.push_back(g->clone());
        return d;
    }
    void restore_draws(const Draws& d) {
        learner_->view_generator() = d.generators[0].clone();
        for (size_t k = 0; k < rewound_.size(); ++k)
            *rewound_[k] = d.generators[k + 1].clone();
        rng_ = d.rng;
    }

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
inline double sample_beta(double a, double b, std::mt19937_64& rng) {
    double x = std::gamma_distribution<double>(a, 1.0)(rng);
    double y = std::gamma_distribution<double>(b, 1.0)(rng);
    return x + y > 0 ? x / (x + y) : 0.5;
}

} // namespace iclr
