// MAML (Finn et al. 2017) on any backbone built of torch::nn Linear / Conv2d / BatchNorm / LayerNorm
// modules: fast weights, the inner loop (first or second order), and the episode learner that the
// `maml` and `unicorn_maml` methods share.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "iclr/dataset.hpp"
#include "iclr/declare.hpp"
#include "iclr/fewshot.hpp"
#include "iclr/joint.hpp"
#include "iclr/learner.hpp"
#include "iclr/method.hpp"
#include "iclr/params.hpp"

namespace iclr {

// A libtorch module runs on its `weight` / `bias` members, not on the registered parameters, so
// fast weights are put in place by assigning those members and taken out by assigning the
// registered tensors back. Covers Linear, Conv2d, BatchNorm1d/2d and LayerNorm; a backbone with any
// other parameter (a ViT's position table) is refused, since fast weights could not reach it.
class FastWeights {
  public:
    FastWeights(torch::nn::Module& root, const std::string& model) {
        for (const auto& m : root.modules(/*include_self=*/true)) {
            if (auto* l = dynamic_cast<torch::nn::LinearImpl*>(m.get())) add(l->weight, l->bias);
            if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) add(c->weight, c->bias);
            if (auto* b = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) add(b->weight, b->bias);
            if (auto* b = dynamic_cast<torch::nn::BatchNorm1dImpl*>(m.get())) add(b->weight, b->bias);
            if (auto* n = dynamic_cast<torch::nn::LayerNormImpl*>(m.get())) add(n->weight, n->bias);
        }
        for (const auto& p : root.named_parameters()) {
            bool found = false;
            for (size_t k = 0; k < slots_.size() && !found; ++k)
                found = slots_[k]->unsafeGetTensorImpl() == p.value().unsafeGetTensorImpl();
            if (!found)
                throw PluginError("maml: " + model +
                                  " model has a parameter outside Linear / Conv2d / BatchNorm / "
                                  "LayerNorm modules (" +
                                  p.key() + "): fast weights cannot reach it");
        }
        for (auto* s : slots_)
            originals_.push_back(*s);
    }
    // The registered parameters, in the order fast weights are given.
    const std::vector<torch::Tensor>& parameters() const { return originals_; }
    void use(const std::vector<torch::Tensor>& fast) {
        for (size_t k = 0; k < slots_.size(); ++k)
            *slots_[k] = fast[k];
    }
    void restore() { use(originals_); }

  private:
    void add(torch::Tensor& w, torch::Tensor& b) {
        if (w.defined()) slots_.push_back(&w);
        if (b.defined()) slots_.push_back(&b);
    }
    std::vector<torch::Tensor*> slots_;
    std::vector<torch::Tensor> originals_;
};

// The inner loop: `steps` gradient steps of size `lr` on the support loss from `start`, returning
// the adapted weights. Second order keeps the graph of each step (create_graph), so the outer
// gradient flows through the inner gradients; first order treats them as constants.
inline std::vector<torch::Tensor>
inner_loop(const std::vector<torch::Tensor>& start,
           const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& loss, int64_t steps, double lr,
           bool second_order) {
    std::vector<torch::Tensor> w = start;
    for (int64_t s = 0; s < steps; ++s) {
        auto g = torch::autograd::grad({loss(w)}, w, {}, /*retain_graph=*/true, /*create_graph=*/second_order,
                                       /*allow_unused=*/true);
        for (size_t k = 0; k < w.size(); ++k)
            if (g[k].defined()) w[k] = w[k] - lr * (second_order ? g[k] : g[k].detach());
    }
    return w;
}

// A backbone and an N-way linear head adapted per episode. The head's starting point is the
// method's: learned (MAML), zero (the zeroing trick) or one learned row copied N times (UNICORN).
class MamlLearner : public Encoder, public EpisodeLearner {
  public:
    struct Options {
        int64_t inner_steps = 5, test_inner_steps = 10;
        double inner_lr = 0.01;
        bool second_order = true;
    };
    // head_start(ways) gives the head's [weight, bias] at the start of an inner loop, built from
    // the method's meta-parameters so that the outer gradient reaches them.
    using HeadStart = std::function<std::vector<torch::Tensor>(int64_t ways)>;

    MamlLearner(std::shared_ptr<Backbone> b, const std::string& model, Options o, HeadStart head_start)
        : Encoder(b, "maml"), fast_(*b, model), o_(o), head_start_(std::move(head_start)) {}

    // The query loss after adapting to the support set, differentiable in the meta-parameters.
    torch::Tensor query_loss(const Episode& ep) {
        auto logits = adapted_query_logits(ep, o_.inner_steps, o_.second_order);
        return torch::nn::functional::cross_entropy(logits, ep.query.y);
    }
    torch::Tensor episode_logits(const Episode& ep) override {
        auto buffers = save_buffers();
        auto logits = adapted_query_logits(ep, o_.test_inner_steps, false).detach();
        restore_buffers(buffers);
        return logits;
    }
    const std::vector<torch::Tensor>& backbone_parameters() const { return fast_.parameters(); }

  private:
    torch::Tensor adapted_query_logits(const Episode& ep, int64_t steps, bool second_order) {
        auto start = fast_.parameters();
        for (auto& h : head_start_(ep.ways))
            start.push_back(h);
        size_t n = fast_.parameters().size();
        auto logits = [&](const std::vector<torch::Tensor>& w, const torch::Tensor& x) {
            fast_.use(std::vector<torch::Tensor>(w.begin(), w.begin() + long(n)));
            return torch::nn::functional::linear(backbone().forward(x), w[n], w[n + 1]);
        };
        auto support_loss = [&](const std::vector<torch::Tensor>& w) {
            return torch::nn::functional::cross_entropy(logits(w, ep.support.x), ep.support.y);
        };
        torch::Tensor out;
        try {
            torch::AutoGradMode grad(true);
            auto adapted = inner_loop(start, support_loss, steps, o_.inner_lr, second_order);
            out = logits(adapted, ep.query.x);
        } catch (...) {
            fast_.restore();
            throw;
        }
        fast_.restore();
        return out;
    }
    std::vector<torch::Tensor> save_buffers() {
        std::vector<torch::Tensor> out;
        for (auto& b : backbone().buffers())
            out.push_back(b.clone());
        return out;
    }
    void restore_buffers(const std::vector<torch::Tensor>& saved) {
        torch::NoGradGuard no_grad;
        auto now = backbone().buffers();
        for (size_t k = 0; k < now.size(); ++k)
            now[k].copy_(saved[k]);
    }

    FastWeights fast_;
    Options o_;
    HeadStart head_start_;
};

// The meta-training loop `maml` and `unicorn_maml` share: each step adapts to `meta_batch` train
// episodes and takes one Adam step on the mean query loss. The head is the method's (head_start,
// head_parameters); before each step `before_outer_step()` runs (the zeroing trick zeroes it).
// With `mlti`, the step adapts to MLTI's interpolations of the meta-batch instead.
class MamlMethod : public Method {
  public:
    struct Params {
        Int meta_steps{"meta_steps", 2000, 0, 1000000, "outer (meta) optimiser steps"};
        Int meta_batch{"meta_batch", 4, 1, 256, "episodes per outer step (Finn et al., miniImageNet: 4 for 1-shot)"};
        Float meta_lr{"meta_lr", 1e-3, 0.0, 10.0, "Adam learning rate of the outer loop (Finn et al.: 1e-3)"};
        Float inner_lr{"inner_lr", 0.01, 0.0, 10.0, "inner-loop SGD step (Finn et al., miniImageNet: 0.01)"};
        Int inner_steps{"inner_steps", 5, 0, 100, "inner steps while meta-training (Finn et al.: 5)"};
        Int test_inner_steps{"test_inner_steps", 10, 0, 1000, "inner steps on a test episode (Finn et al.: 10)"};
        Bool first_order{"first_order", false, "drop the second-order term (FOMAML)"};
        Int log_every{"log_every", 100, 0, 1000000, "steps between train_loss rows (0 = none)"};
        MltiParams interpolation;
    };
    explicit MamlMethod(const Params& p) : p_(p) {}

    void run(Session& s) override {
        auto& ctx = s.ctx();
        const auto& b = s.benchmark();
        if (!b.episodes) throw PluginError(name() + " needs a data set that makes episodes (e.g. fewshot)");
        auto backbone = s.new_backbone();
        ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
        torch::manual_seed(ctx.seed());
        make_head(backbone->feature_dim(), b.num_classes);
        MamlLearner learner(backbone, "the sweep's",
                            {p_.inner_steps, p_.test_inner_steps, p_.inner_lr, !p_.first_order},
                            [this](int64_t ways) { return head_start(ways); });
        auto params = learner.backbone_parameters();
        for (auto& h : head_parameters())
            params.push_back(h);
        torch::optim::Adam opt(params, torch::optim::AdamOptions(p_.meta_lr));
        std::mt19937_64 rng(ctx.seed() ^ 0x3a31ULL);
        TaskInterpolation mlti(p_.interpolation, ctx.seed());
        backbone->train();
        double sum = 0;
        int64_t n = 0;
        for (int64_t step = 1; step <= p_.meta_steps; ++step) {
            ctx.check_cancelled();
            before_outer_step();
            opt.zero_grad();
            torch::Tensor loss = torch::zeros({});
            for (const auto& ep : mlti.next_batch(*b.episodes, p_.meta_batch, rng))
                loss = loss + learner.query_loss(ep) / double(p_.meta_batch);
            loss.backward();
            opt.step();
            sum += loss.item<double>();
            ++n;
            if (p_.log_every > 0 && step % p_.log_every == 0) {
                ctx.log("train_loss", sum / double(n), step);
                sum = 0;
                n = 0;
            }
        }
        before_outer_step(); // the zeroing trick zeroes the head before test-time adaptation too
        s.notify({EventKind::End, -1, p_.meta_steps}, learner);
    }

  protected:
    virtual std::string name() const = 0;
    virtual void make_head(int64_t feature_dim, int64_t ways) = 0;
    virtual std::vector<torch::Tensor> head_start(int64_t ways) = 0;
    virtual std::vector<torch::Tensor> head_parameters() = 0;
    virtual void before_outer_step() {}

    const Params p_;
};

} // namespace iclr
