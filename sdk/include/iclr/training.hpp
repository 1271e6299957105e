// Training helpers every supervised method needs: a seeded generator, shuffled mini-batches,
// an optimiser by name, and the supervised epoch loop.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "iclr/context.hpp"
#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"
#include "iclr/sam.hpp"
#include "iclr/sgd.hpp"

namespace iclr {

// A CPU generator seeded from the trial's seed. `stream` separates independent uses (data order,
// augmentation, a replay buffer) so they do not share one sequence; stream 0 is the seed itself.
inline torch::Generator make_generator(uint64_t seed, uint64_t stream = 0) {
    return at::make_generator<at::CPUGeneratorImpl>(seed ^ (stream * 0x9e3779b97f4a7c15ULL));
}

struct Batch {
    torch::Tensor x, y;
    int64_t index = 0; // which batch of the epoch
};

struct BatchOptions {
    bool drop_last = false; // skip a last batch smaller than batch_size
    // Applied to each batch's inputs (e.g. an iclr::Augment pipeline); none when empty.
    std::function<torch::Tensor(const torch::Tensor&)> augment;
};

// One epoch of shuffled mini-batches over a split: the order is drawn from `gen` when the object
// is made (torch::randperm), so the same seed gives the same batches. With a RunContext, each
// batch first checks for cancellation (Ctrl-C, timeout).
//   for (const iclr::Batch& b : iclr::Batches(task.train, 32, gen, &ctx)) ...
class Batches {
  public:
    Batches(const Split& split, int64_t batch_size, torch::Generator& gen, RunContext* ctx = nullptr,
            BatchOptions opts = {})
        : split_(split), batch_(batch_size), ctx_(ctx), opts_(std::move(opts)),
          order_(torch::randperm(split.size(), gen)) {
        TORCH_CHECK(batch_size > 0, "batch size must be positive");
    }
    int64_t size() const {
        int64_t n = split_.size();
        return opts_.drop_last ? n / batch_ : (n + batch_ - 1) / batch_;
    }

    class iterator {
      public:
        iterator(const Batches* b, int64_t k) : b_(b), k_(k) {}
        Batch operator*() const { return b_->at(k_); }
        iterator& operator++() {
            ++k_;
            return *this;
        }
        bool operator!=(const iterator& o) const { return k_ != o.k_; }

      private:
        const Batches* b_;
        int64_t k_;
    };
    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, size()}; }

    Batch at(int64_t k) const {
        if (ctx_) ctx_->check_cancelled();
        int64_t i = k * batch_;
        auto idx = order_.slice(0, i, std::min(split_.size(), i + batch_));
        auto x = split_.x.index_select(0, idx);
        if (opts_.augment) x = opts_.augment(x);
        return {x, split_.y.index_select(0, idx), k};
    }

  private:
    const Split& split_;
    int64_t batch_;
    RunContext* ctx_;
    BatchOptions opts_;
    torch::Tensor order_;
};

// An optimiser that drops the gradients after each step, as PyTorch's zero_grad(set_to_none=True)
// (its default since 2.0; libtorch 1.13's zero_grad() can only fill them with zeros): the next
// backward then writes fresh gradients instead of adding them to zeroed ones, two passes over every
// weight fewer per step (~10% of a 1,024-wide MLP's step on this machine, `make bench`). The
// numbers do not change (0 + g = g); tests/plugins/optimizer_test.cpp pins that bit for bit.
template <class Base> class ReleasingGrads : public Base {
  public:
    using Base::Base;
    torch::Tensor step(torch::optim::Optimizer::LossClosure closure = nullptr) override {
        auto loss = Base::step(std::move(closure));
        for (auto& group : this->param_groups())
            for (auto& p : group.params())
                if (p.grad().defined()) p.mutable_grad().reset();
        return loss;
    }
};

// "sgd" (with momentum; libtorch's numbers, its update in one pass: sgd.hpp), "adam" (L2 weight decay in the gradient), "adamw" (decoupled weight
// decay, Loshchilov & Hutter) or "sam" (Sharpness-Aware Minimization around sam.base, which gets
// the same lr, momentum and weight decay), over the given parameters. SAM steps need a closure:
// opt.step([&] { opt.zero_grad(); auto l = loss(); l.backward(); return l; }) serves every kind.
inline std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind,
                                                               std::vector<torch::Tensor> params, double lr,
                                                               double momentum = 0.0, double weight_decay = 0.0,
                                                               const SamOptions& sam = {}) {
    if (kind == "sam") {
        if (sam.base == "sam") throw PluginError("optimizer 'sam' cannot wrap itself (base: sgd, adam, adamw)");
        return std::make_unique<Sam>(make_optimizer(sam.base, std::move(params), lr, momentum, weight_decay), sam);
    }
    if (kind == "adam")
        return std::make_unique<ReleasingGrads<torch::optim::Adam>>(
            std::move(params), torch::optim::AdamOptions(lr).weight_decay(weight_decay));
    if (kind == "adamw")
        return std::make_unique<ReleasingGrads<torch::optim::AdamW>>(
            std::move(params), torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
    if (kind != "sgd") throw PluginError("unknown optimizer '" + kind + "' (sgd, adam, adamw, sam)");
    return std::make_unique<ReleasingGrads<FusedSgd>>(
        std::move(params), torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(weight_decay));
}

// One optimiser step on a loss recomputed by `loss()` (forward and backward inside the step, so a
// SAM optimiser can evaluate it twice). Returns the loss at the current weights.
inline torch::Tensor optimizer_step(torch::optim::Optimizer& opt, const std::function<torch::Tensor()>& loss) {
    torch::Tensor first;
    opt.step([&] {
        opt.zero_grad();
        auto l = loss();
        l.backward();
        if (!first.defined()) first = l.detach();
        return l;
    });
    return first;
}

// `epochs` passes of supervised training on one split: cross-entropy of learner.logits(x, task)
// (task < 0: all classes), one optimiser step per mini-batch, the backbone in training mode.
// on_step(loss) runs after every step. Returns the number of steps taken.
inline int64_t train_supervised(Learner& learner, torch::optim::Optimizer& opt, const Split& split, int64_t task,
                                int64_t epochs, int64_t batch_size, torch::Generator& gen, RunContext& ctx,
                                const std::function<void(double)>& on_step = {}) {
    int64_t steps = 0;
    learner.backbone().train();
    for (int64_t e = 0; e < epochs; ++e)
        for (const Batch& b : Batches(split, batch_size, gen, &ctx)) {
            auto loss = optimizer_step(
                opt, [&] { return torch::nn::functional::cross_entropy(learner.logits(b.x, task), b.y); });
            ++steps;
            if (on_step) on_step(loss.item<double>());
        }
    return steps;
}

} // namespace iclr
