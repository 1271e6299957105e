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
#include "iclr/method.hpp"
#include "iclr/sam.hpp"
#include "iclr/sgd.hpp"

namespace iclr {

// A CPU generator seeded from the trial's seed. `stream` separates independent uses (data order,
// augmentation, a replay buffer) so they do not share one sequence; stream 0 is the seed itself.
torch::Generator make_generator(uint64_t seed, uint64_t stream = 0);

// A copy of `backbone` that training leaves alone: a new backbone from the trial's model plugin
// (Session::new_backbone) holding the same parameters and buffers (BatchNorm's running statistics
// too, which copying parameters() alone misses), in eval mode, without gradients: a distillation's
// teacher (LwF), a frozen reference. torch's CPU generator is left as it was (the copy's initial
// weights are drawn from it, then overwritten), so taking a copy moves no later draw. Added in 2.9.
std::shared_ptr<Backbone> frozen_copy(Session& session, Backbone& backbone);

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
            BatchOptions opts = {});
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

    Batch at(int64_t k) const;

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
// Compiled once, in sdk/src/training.cpp: the optimisers make_optimizer returns.
extern template class ReleasingGrads<torch::optim::Adam>;
extern template class ReleasingGrads<torch::optim::AdamW>;
extern template class ReleasingGrads<FusedSgd>;

// "sgd" (with momentum; libtorch's numbers, its update in one pass: sgd.hpp), "adam" (L2 weight decay in the gradient),
// "adamw" (decoupled weight decay, Loshchilov & Hutter) or "sam" (Sharpness-Aware Minimization around sam.base, which
// gets the same lr, momentum and weight decay), over the given parameters. SAM steps need a closure: opt.step([&] {
// opt.zero_grad(); auto l = loss(); l.backward(); return l; }) serves every kind.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind, std::vector<torch::Tensor> params,
                                                        double lr, double momentum = 0.0, double weight_decay = 0.0,
                                                        const SamOptions& sam = {});

// One optimiser step on a loss recomputed by `loss()` (forward and backward inside the step, so a
// SAM optimiser can evaluate it twice). Returns the loss at the current weights.
torch::Tensor optimizer_step(torch::optim::Optimizer& opt, const std::function<torch::Tensor()>& loss);

// `epochs` passes of supervised training on one split: cross-entropy of learner.logits(x, task)
// (task < 0: all classes), one optimiser step per mini-batch, the backbone in training mode.
// on_step(loss) runs after every step. Returns the number of steps taken.
int64_t train_supervised(Learner& learner, torch::optim::Optimizer& opt, const Split& split, int64_t task,
                         int64_t epochs, int64_t batch_size, torch::Generator& gen, RunContext& ctx,
                         const std::function<void(double)>& on_step = {});

} // namespace iclr
