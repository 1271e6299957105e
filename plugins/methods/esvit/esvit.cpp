// Method plugin `esvit`: DINO self-distillation (student vs an EMA teacher on two views) with
// EsViT's region-level loss weighted in (region_weight 0 is plain DINO), on every task's training
// images at once; the teacher (or student) backbone is what metrics evaluate.
#include <cmath>
#include <functional>

#include "iclr/dino.hpp"
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

// a's tensors then b's.
std::vector<torch::Tensor> concat(std::vector<torch::Tensor> a, const std::vector<torch::Tensor>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// A backbone's view head and region head (EsViT's head and head_dense).
struct Heads {
    Heads(int64_t in, int64_t hidden, int64_t bottleneck, int64_t out)
        : view(in, hidden, bottleneck, out), region(in, hidden, bottleneck, out) {}
    std::vector<torch::Tensor> parameters() const { return concat(view->parameters(), region->parameters()); }
    void to(const torch::Device& device) {
        view->to(device);
        region->to(device);
    }
    iclr::DinoHead view, region;
};

class Esvit : public iclr::Method {
  public:
    struct Params {
        iclr::Float region_weight{"region_weight", 0.5, 0.0, 1.0,
                                  "loss = (1 - w) view-level + w region-level (EsViT: 0.5; 0 = DINO)"};
        iclr::Int out_dim{"out_dim", 256, 2, 1 << 20, "prototypes of each head (DINO: 65536)"};
        iclr::Int hidden_dim{"hidden_dim", 256, 2, 65536, "head MLP width (DINO: 2048)"};
        iclr::Int bottleneck_dim{"bottleneck_dim", 64, 2, 65536, "head bottleneck before the prototypes (DINO: 256)"};
        iclr::Float student_temp{"student_temp", 0.1, 1e-4, 100.0, "tau_s (DINO: 0.1)"};
        iclr::Float teacher_temp{"teacher_temp", 0.04, 1e-4, 100.0, "tau_t (DINO: 0.04)"};
        iclr::Float center_momentum{"center_momentum", 0.9, 0.0, 1.0, "EMA of the teacher-output centre (DINO: 0.9)"};
        iclr::Float teacher_momentum{"teacher_momentum", 0.996, 0.0, 1.0,
                                     "EMA of the teacher weights at step 0, cosine to 1 (DINO: 0.996)"};
        iclr::Float lr{"lr", 5e-4, 0.0, 10.0, "AdamW peak learning rate (DINO: 5e-4 x batch / 256)"};
        iclr::Float min_lr{"min_lr", 1e-6, 0.0, 10.0, "learning rate at the end of the cosine decay (DINO: 1e-6)"};
        iclr::Int warmup_epochs{"warmup_epochs", 1, 0, 10000, "linear warm-up of the learning rate (DINO: 10 of 100)"};
        iclr::Float weight_decay{"weight_decay", 0.04, 0.0, 10.0,
                                 "AdamW weight decay of weights, not biases or norms (DINO: 0.04 rising to 0.4)"};
        iclr::Float clip_grad{"clip_grad", 3.0, 0.0, 1e6, "clip each parameter's gradient norm (DINO: 3; 0 = off)"};
        iclr::Int epochs{"epochs", 10, 1, 10000, "epochs over the union of the tasks' training images"};
        iclr::Int batch_size{"batch_size", 128, 2, 65536, "images per batch, each seen in two views"};
        iclr::Float crop_min_scale{"crop_min_scale", 0.4, 0.01, 1.0,
                                   "views: random resized crop area ~ U(s, 1) (DINO's global crops: 0.4)"};
        iclr::Float noise{"noise", 0.1, 0.0, 10.0, "views: Gaussian noise sd added last (0 = none)"};
        iclr::String evaluate{"evaluate", "teacher", "teacher|student",
                              "the backbone metrics see (DINO evaluates the teacher)"};
        iclr::Int log_every{"log_every", 20, 0, 1000000, "log the losses and the teacher's entropy every N steps"};
    };

    Esvit(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        auto& ctx = s.ctx();
        auto student = s.new_backbone(), teacher = s.new_backbone();
        torch::manual_seed(ctx.seed()); // heads drawn the same whether the backbones came from a cache
        int64_t d = student->feature_dim();
        Heads sh(d, p_.hidden_dim, p_.bottleneck_dim, p_.out_dim), th(d, p_.hidden_dim, p_.bottleneck_dim, p_.out_dim);
        auto device = iclr::module_device(*student); // the heads are drawn on the CPU: the same weights anywhere
        sh.to(device);
        th.to(device);
        student_ = concat(student->parameters(), sh.parameters());
        teacher_ = concat(teacher->parameters(), th.parameters());
        iclr::ema_update(teacher_, student_, 0.0); // the teacher starts as a copy of the student
        for (auto& t : teacher_)
            t.set_requires_grad(false);
        center_ = torch::zeros({1, p_.out_dim}, torch::TensorOptions().device(device));
        region_center_ = torch::zeros({1, p_.out_dim}, torch::TensorOptions().device(device));
        train(s, *student, *teacher, sh, th);
        iclr::Encoder encoder(p_.evaluate() == "teacher" ? teacher : student, "esvit");
        iclr::report_joint(s, encoder, step_);
    }

  private:
    // AdamW with DINO's two groups: decay on weights (dim > 1), none on biases and norm scales.
    std::unique_ptr<torch::optim::AdamW> optimizer() {
        std::vector<torch::Tensor> decay, no_decay;
        for (auto& t : student_)
            (t.dim() > 1 ? decay : no_decay).push_back(t);
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                       torch::optim::AdamWOptions(p_.lr).weight_decay(p_.weight_decay)));
        groups.emplace_back(
            no_decay, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(p_.lr).weight_decay(0)));
        return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(p_.lr));
    }

    // DINO's schedule: linear warm-up to lr, then a half cosine down to min_lr.
    double lr_at(int64_t step, int64_t warmup, int64_t total) const {
        if (step < warmup) return p_.lr * double(step) / double(warmup);
        double t = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
        return p_.min_lr + (p_.lr - p_.min_lr) * (1 + std::cos(M_PI * t)) / 2;
    }

    void train(iclr::Session& s, iclr::Backbone& student, iclr::Backbone& teacher, Heads& sh, Heads& th) {
        auto& ctx = s.ctx();
        iclr::Split all = iclr::joined(s.benchmark());
        int64_t per_epoch = all.size() / p_.batch_size, total = p_.epochs * per_epoch;
        if (per_epoch == 0)
            throw iclr::PluginError("batch_size " + std::to_string(p_.batch_size) + " is larger than the " +
                                    std::to_string(all.size()) + " training images");
        auto opt = optimizer();
        auto views = iclr::compose({iclr::random_resized_crop(p_.crop_min_scale, 1.0), iclr::gaussian_noise(p_.noise)});
        auto gen = iclr::make_generator(ctx.seed()), view_gen = iclr::make_generator(ctx.seed(), 2);
        student.train();
        teacher.train(); // as DINO's teacher: BatchNorm, in a model that has it, uses the batch's statistics
        for (int64_t e = 0; e < p_.epochs; ++e)
            for (const iclr::Batch& batch :
                 iclr::Batches(all, p_.batch_size, gen, &ctx, iclr::BatchOptions{true, {}})) {
                double lr = lr_at(step_, p_.warmup_epochs * per_epoch, total);
                for (auto& g : opt->param_groups())
                    static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
                auto [v1, v2] = iclr::two_views(views, batch.x, view_gen);
                auto loss = batch_loss(ctx, torch::cat({v1, v2}), student, teacher, sh, th);
                opt->zero_grad();
                loss.backward();
                clip();
                opt->step();
                iclr::ema_update(teacher_, student_, iclr::cosine_momentum(p_.teacher_momentum, step_, total));
                ++step_;
            }
    }

    // Both views in one forward (as DINO's multi-crop wrapper does for crops of one size); each
    // student view learns the teacher's targets for the other view.
    torch::Tensor batch_loss(iclr::RunContext& ctx, const torch::Tensor& x, iclr::Backbone& student,
                             iclr::Backbone& teacher, Heads& sh, Heads& th) {
        bool region = p_.region_weight > 0;
        auto s_out = sh.view->forward(student.forward(x)).chunk(2);
        auto s_tokens = region ? patch_tokens(student) : torch::Tensor();
        torch::Tensor t_raw, t_tokens, t_region_raw;
        {
            torch::NoGradGuard no_grad;
            t_raw = th.view->forward(teacher.forward(x));
            if (region) {
                t_tokens = patch_tokens(teacher);
                t_region_raw = th.region->forward(t_tokens);
            }
        }
        // (H(target of view 0 for student view 1, s_1) + H(target of view 1 for student view 0, s_0)) / 2.
        auto swapped = [&](const std::function<torch::Tensor(int64_t, int64_t)>& target,
                           const std::vector<torch::Tensor>& s) {
            return (iclr::dino_cross_entropy(target(0, 1), s[1], p_.student_temp) +
                    iclr::dino_cross_entropy(target(1, 0), s[0], p_.student_temp)) /
                   2;
        };
        auto targets = iclr::dino_targets(t_raw, center_, p_.teacher_temp);
        auto t = targets.chunk(2);
        auto view = swapped([&](int64_t i, int64_t) { return t[size_t(i)]; }, s_out);
        auto loss = view * (1 - double(p_.region_weight));
        torch::Tensor region_loss;
        if (region) {
            auto st = s_tokens.chunk(2), tt = t_tokens.chunk(2);
            auto tr = iclr::dino_targets(t_region_raw, region_center_, p_.teacher_temp).chunk(2);
            region_loss = swapped(
                [&](int64_t i, int64_t j) {
                    return iclr::matched_region_targets(st[size_t(j)], tt[size_t(i)], tr[size_t(i)]);
                },
                sh.region->forward(s_tokens).chunk(2));
            loss = loss + region_loss * double(p_.region_weight);
            iclr::update_center(region_center_, t_region_raw, p_.center_momentum);
        }
        log(ctx, loss, view, region_loss, targets);
        iclr::update_center(center_, t_raw, p_.center_momentum);
        return loss;
    }

    torch::Tensor patch_tokens(iclr::Backbone& b) {
        auto in = b.internals();
        auto it = in.find("patch_tokens");
        if (it == in.end())
            throw iclr::PluginError("region_weight > 0 needs a model that exposes patch tokens (vit); this one does "
                                    "not: use region_weight = 0 (DINO)");
        return it->second;
    }

    // DINO's clipping: each parameter's gradient scaled down to norm clip_grad if it is longer.
    void clip() {
        if (p_.clip_grad <= 0) return;
        torch::NoGradGuard no_grad;
        for (auto& t : student_)
            if (t.grad().defined()) {
                double n = t.grad().norm().item<double>();
                if (n > p_.clip_grad) t.grad().mul_(p_.clip_grad / (n + 1e-6));
            }
    }

    void log(iclr::RunContext& ctx, const torch::Tensor& loss, const torch::Tensor& view, const torch::Tensor& region,
             const torch::Tensor& targets) {
        if (p_.log_every <= 0 || (step_ + 1) % p_.log_every != 0) return;
        int64_t step = step_ + 1;
        ctx.log("train_loss", loss.item<double>(), step);
        ctx.log("dino_view_loss", view.item<double>(), step);
        if (region.defined()) ctx.log("esvit_region_loss", region.item<double>(), step);
        // The teacher's mean target entropy: near 0 = sharp, log(out_dim) = uniform (collapse to a constant shows as 0
        // with one prototype always winning).
        ctx.log("teacher_entropy", -(targets * torch::log(targets + 1e-12)).sum(-1).mean().item<double>(), step);
    }

    Params p_;
    std::vector<torch::Tensor> student_, teacher_; // backbone then heads, same order in both
    torch::Tensor center_, region_center_;
    int64_t step_ = 0;
};

} // namespace

ICLR_PLUGIN(
    iclr::Method, Esvit, "esvit", "0.1.0",
    "Li, Yang, Zhang, Gao, Xiao, Dai, Yuan, Gao. Efficient Self-supervised Vision Transformers for "
    "Representation Learning. ICLR 2022.",
    "DINO self-distillation with EsViT's region-level loss (region_weight 0 = DINO); evaluate with knn_accuracy, "
    "linear_probe")
