// ContinualParams, the objectives' heads, ContinualLearner and ContinualMethod's loop
// (iclr/continual.hpp).
#include "iclr/continual.hpp"

namespace iclr {

ContinualParams::ContinualParams(const ContinualDefaults& d)
    : lr{"lr", d.lr, 0.0, 10.0, "learning rate"}, momentum{"momentum", d.momentum, 0.0, 0.999, "SGD momentum"},
      weight_decay{"weight_decay", 0.0, 0.0, 1.0, "L2 weight decay in the optimiser (LUMP's code: 5e-4)"},
      epochs{"epochs", 1, 1, 1000, "epochs per task"},
      batch_size{"batch_size", d.batch_size, 2, 65536, "minibatch size"}, optimizer{"optimizer", "sgd",
                                                                                    "sgd|adam|adamw|sam",
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

Objective::Objective(const ContinualParams& p, int64_t feature_dim, int64_t num_classes)
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

torch::Tensor Objective::ssl_loss(const torch::Tensor& f1, const torch::Tensor& f2) {
    auto z1 = projector_->forward(f1), z2 = projector_->forward(f2);
    if (kind_ == "barlow") return barlow_twins_loss(z1, z2).loss;
    return simsiam_loss(predictor_->forward(z1), predictor_->forward(z2), z1, z2);
}
std::vector<torch::Tensor> Objective::parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto& m : modules())
        for (auto& t : m->parameters())
            out.push_back(t);
    return out;
}
void Objective::to(const torch::Device& device) {
    for (const auto& m : modules())
        m->to(device);
}
void Objective::train(bool on) {
    for (const auto& m : modules())
        m->train(on);
}

std::vector<std::shared_ptr<torch::nn::Module>> Objective::modules() const {
    std::vector<std::shared_ptr<torch::nn::Module>> out;
    if (!head_.is_empty()) out.push_back(head_.ptr());
    if (!projector_.is_empty()) out.push_back(projector_.ptr());
    if (!predictor_.is_empty()) out.push_back(predictor_.ptr());
    return out;
}

ContinualLearner::ContinualLearner(std::shared_ptr<Backbone> backbone, const Benchmark& bench, const ContinualParams& p,
                                   torch::Generator views)
    : backbone_(std::move(backbone)), bench_(bench), params_(p), views_(std::move(views)) {
    objectives_.emplace_back(p, backbone_->feature_dim(), bench.num_classes);
    objectives_.back().to(module_device(*backbone_));
    std::vector<Augment> steps{random_resized_crop(p.crop_min_scale, 1.0)};
    if (p.contrast > 0) steps.push_back(random_contrast(1.0 - p.contrast, 1.0 + p.contrast));
    if (p.noise > 0) steps.push_back(gaussian_noise(p.noise));
    augment_ = compose(std::move(steps));
}

ContinualLearner::~ContinualLearner() = default;

torch::Tensor ContinualLearner::logits(const torch::Tensor& x, int64_t task) {
    auto out = head_logits(task_features(x, task), task);
    return task < 0 ? out : masked(out, torch::full({x.size(0)}, task, out.options().dtype(torch::kLong)));
}

torch::Tensor ContinualLearner::loss_on(const torch::Tensor& x, const torch::Tensor& y, int64_t task,
                                        const torch::Tensor& example_tasks) {
    if (!supervised()) {
        auto [v1, v2] = views(x);
        return ssl_loss_on_views(v1, v2, task);
    }
    auto out = head_logits(task_features(x, task), task);
    if (params_.head() == "task")
        out = masked(out, example_tasks.defined() ? example_tasks
                                                  : torch::full({x.size(0)}, task, out.options().dtype(torch::kLong)));
    return torch::nn::functional::cross_entropy(out, y);
}

torch::Tensor ContinualLearner::ssl_loss_on_views(const torch::Tensor& v1, const torch::Tensor& v2, int64_t task) {
    return objective(task).ssl_loss(task_features(v1, task), task_features(v2, task));
}

std::pair<torch::Tensor, torch::Tensor> ContinualLearner::views(const torch::Tensor& x) {
    return two_views(augment_, x, views_);
}

std::vector<torch::Tensor> ContinualLearner::trainable() {
    auto out = backbone_->parameters();
    for (auto& o : objectives_)
        for (auto& t : o.parameters())
            out.push_back(t);
    return out;
}
void ContinualLearner::train(bool on) {
    backbone_->train(on);
    for (auto& o : objectives_)
        o.train(on);
}

torch::Tensor ContinualLearner::head_logits(const torch::Tensor& features, int64_t task) {
    Objective& o = objective(task);
    if (!o.supervised())
        throw PluginError("objective '" + o.kind() +
                          "' trains no classifier head: evaluate it with knn_accuracy or linear_probe");
    return o.head()->forward(features);
}
torch::Tensor ContinualLearner::masked(const torch::Tensor& out, const torch::Tensor& example_tasks) {
    return out + class_mask(example_tasks.to(out.device())).to(out.dtype()); // a method's task ids may be on the CPU
}
torch::Tensor ContinualLearner::class_mask(const torch::Tensor& example_tasks) {
    if (!mask_.defined()) {
        mask_ =
            torch::full({int64_t(bench_.tasks.size()), bench_.num_classes}, -std::numeric_limits<float>::infinity());
        for (size_t t = 0; t < bench_.tasks.size(); ++t)
            for (int64_t c : bench_.tasks[t].classes)
                mask_[int64_t(t)][c] = 0.0f;
    }
    if (mask_.device() != example_tasks.device()) mask_ = mask_.to(example_tasks.device()); // once
    return mask_.index_select(0, example_tasks);
}

ContinualMethod::ContinualMethod(const ContinualParams& p) : cp_(p) {}
ContinualMethod::~ContinualMethod() = default;

void ContinualMethod::run(Session& s) {
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

std::unique_ptr<ContinualLearner> ContinualMethod::make_learner(std::shared_ptr<Backbone> backbone, const Benchmark& b,
                                                                torch::Generator views) {
    return std::make_unique<ContinualLearner>(std::move(backbone), b, cp_, std::move(views));
}

torch::Tensor ContinualMethod::batch_loss(const Batch& b, int64_t t) { return learner_->loss_on(b.x, b.y, t); }

std::unique_ptr<torch::optim::Optimizer> ContinualMethod::start(Session& s) {
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

void ContinualMethod::train_step(torch::optim::Optimizer& opt, const Batch& batch, int64_t t) {
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

std::unique_ptr<torch::optim::Optimizer> ContinualMethod::new_optimizer() {
    return make_optimizer(cp_.optimizer(), learner_->trainable(), cp_.lr, cp_.momentum, cp_.weight_decay, cp_.sam());
}

ContinualMethod::Draws ContinualMethod::save_draws() {
    Draws d{{learner_->view_generator().clone()}, rng_};
    for (auto* g : rewound_)
        d.generators.push_back(g->clone());
    return d;
}
void ContinualMethod::restore_draws(const Draws& d) {
    learner_->view_generator() = d.generators[0].clone();
    for (size_t k = 0; k < rewound_.size(); ++k)
        *rewound_[k] = d.generators[k + 1].clone();
    rng_ = d.rng;
}

double sample_beta(double a, double b, std::mt19937_64& rng) {
    double x = std::gamma_distribution<double>(a, 1.0)(rng);
    double y = std::gamma_distribution<double>(b, 1.0)(rng);
    return x + y > 0 ? x / (x + y) : 0.5;
}

} // namespace iclr
