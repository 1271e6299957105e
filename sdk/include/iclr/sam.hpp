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
    Sam(std::unique_ptr<torch::optim::Optimizer> base, SamOptions options)
        : Optimizer(base->param_groups(), base->defaults().clone()), base_(std::move(base)), options_(options) {}

    torch::Tensor step(LossClosure closure = nullptr) override {
        if (!closure)
            throw PluginError("optimizer 'sam' needs the loss as a closure (two forward/backward passes per step); "
                              "this method calls step() without one: choose another optimizer");
        torch::Tensor loss;
        {
            torch::AutoGradMode grad(true);
            loss = closure();
        }
        std::vector<torch::Tensor> moved = ascend();
        {
            torch::AutoGradMode grad(true);
            closure();
        }
        {
            torch::NoGradGuard no_grad;
            auto params = all_parameters();
            for (size_t k = 0; k < params.size(); ++k)
                if (moved[k].defined()) params[k].sub_(moved[k]);
        }
        base_->step();
        return loss;
    }
    const SamOptions& options() const { return options_; }

  private:
    // Every group's parameters (Optimizer::parameters() is the first group's only).
    std::vector<torch::Tensor> all_parameters() {
        std::vector<torch::Tensor> out;
        for (auto& g : param_groups())
            out.insert(out.end(), g.params().begin(), g.params().end());
        return out;
    }
    // w += e; returns e per parameter (undefined where the parameter has no gradient).
    std::vector<torch::Tensor> ascend() {
        torch::NoGradGuard no_grad;
        auto params = all_parameters();
        std::vector<torch::Tensor> norms;
        for (auto& p : params)
            if (p.grad().defined()) norms.push_back((options_.adaptive ? p.abs() * p.grad() : p.grad()).norm(2));
        std::vector<torch::Tensor> moved(params.size());
        if (norms.empty()) return moved;
        auto scale = options_.rho / (torch::stack(norms).norm(2) + 1e-12);
        for (size_t k = 0; k < params.size(); ++k) {
            auto& p = params[k];
            if (!p.grad().defined()) continue;
            moved[k] = options_.adaptive ? p * p * p.grad() * scale : p.grad() * scale;
            p.add_(moved[k]);
        }
        return moved;
    }

    std::unique_ptr<torch::optim::Optimizer> base_;
    SamOptions options_;
};

} // namespace iclr
