// Sharpness-Aware Minimization (Foret et al., ICLR 2021) as a torch optimiser wrapping another:
// two forward/backward passes per step, so it needs the loss as a closure.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "iclr/params.hpp"

namespace iclr {

struct SamOptions {
    std::string base = "sgd"; // the optimiser that takes the step: sgd, adam or adamw (make_optimizer)
    double rho = 0.05;        // radius of the neighbourhood (Foret et al.'s default; Chen et al.'s ViTs: 0.05-0.25)
    bool adaptive = false;    // ASAM (Kwon et al. 2021): the radius scaled by |w| per weight
};

// step(closure): g = ∇L(w) (the closure's first call), e = ρ g / ‖g‖ (adaptive: e = ρ w² g / ‖|w| g‖,
// as the official davda54/sam code), then ∇L(w + e) (second call), w restored, and the base
// optimiser steps with the second gradient. Returns the loss at w. The base keeps its own state
// (momentum, Adam moments); zero_grad() and the parameter list are the base's.
class Sam : public torch::optim::Optimizer {
  public:
    Sam(std::unique_ptr<torch::optim::Optimizer> base, SamOptions options);

    torch::Tensor step(LossClosure closure = nullptr) override;
    const SamOptions& options() const { return options_; }

  private:
    // Every group's parameters (Optimizer::parameters() is the first group's only).
    std::vector<torch::Tensor> all_parameters();
    // w += e; returns e per parameter (undefined where the parameter has no gradient).
    std::vector<torch::Tensor> ascend();

    std::unique_ptr<torch::optim::Optimizer> base_;
    SamOptions options_;
};

} // namespace iclr
