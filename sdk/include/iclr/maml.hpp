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
    FastWeights(torch::nn::Module& root, const std::string& model);
    // The registered parameters, in the order fast weights are given.
    const std::vector<torch::Tensor>& parameters() const { return originals_; }
    void use(const std::vector<torch::Tensor>& fast);
    void restore() { use(originals_); }

  private:
    void add(torch::Tensor& w, torch::Tensor& b);
    std::vector<torch::Tensor*> slots_;
    std::vector<torch::Tensor> originals_;
};

// The inner loop: `steps` gradient steps of size `lr` on the support loss from `start`, returning
// the adapted weights. Second order keeps the graph of each step (create_graph), so the outer
// gradient flows through the inner gradients; first order treats them as constants.
std::vector<torch::Tensor> inner_loop(const std::vector<torch::Tensor>& start,
                                      const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& loss,
                                      int64_t steps, double lr, bool second_order);

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

    MamlLearner(std::shared_ptr<Backbone> b, const std::string& model, Options o, HeadStart head_start);

    // The query loss after adapting to the support set, differentiable in the meta-parameters.
    torch::Tensor query_loss(const Episode& ep);
    torch::Tensor episode_logits(const Episode& ep) override;
    const std::vector<torch::Tensor>& backbone_parameters() const { return fast_.parameters(); }

  private:
    torch::Tensor adapted_query_logits(const Episode& ep, int64_t steps, bool second_order);
    std::vector<torch::Tensor> save_buffers();
    void restore_buffers(const std::vector<torch::Tensor>& saved);

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

    void run(Session& s) override;

  protected:
    virtual std::string name() const = 0;
    virtual void make_head(int64_t feature_dim, int64_t ways) = 0;
    virtual std::vector<torch::Tensor> head_start(int64_t ways) = 0;
    virtual std::vector<torch::Tensor> head_parameters() = 0;
    virtual void before_outer_step() {}

    const Params p_;
};

} // namespace iclr
