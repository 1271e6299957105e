// Sharpness-Aware Minimization's two-pass step (iclr/sam.hpp).
#include "iclr/sam.hpp"

namespace iclr {

Sam::Sam(std::unique_ptr<torch::optim::Optimizer> base, SamOptions options)
    : Optimizer(base->param_groups(), base->defaults().clone()), base_(std::move(base)), options_(options) {}

torch::Tensor Sam::step(LossClosure closure) {
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

std::vector<torch::Tensor> Sam::all_parameters() {
    std::vector<torch::Tensor> out;
    for (auto& g : param_groups())
        out.insert(out.end(), g.params().begin(), g.params().end());
    return out;
}

std::vector<torch::Tensor> Sam::ascend() {
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

} // namespace iclr
