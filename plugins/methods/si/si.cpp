// Method plugin `si`: Synaptic Intelligence. Each parameter's contribution to the loss decrease
// along its path during a task becomes its importance; later tasks pay for moving important ones.
#include "iclr/sdk.hpp"

namespace {

class Si : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        iclr::Float c{"c", 10.0, 0.0, 1e12,
                      "penalty strength (van de Ven et al.'s code, Split MNIST task-incremental: 10)"};
        iclr::Float xi{"xi", 0.1, 1e-12, 1e6, "damping xi of the importance (van de Ven et al.'s code: 0.1)"};
    };

    Si(const Params& p, iclr::RunContext&) : ContinualMethod(p), c_(p.c), xi_(p.xi) {}

  protected:
    bool before_task(int64_t t) override {
        if (t == 0) {
            params_ = learner().trainable();
            for (auto& p : params_) {
                prev_.push_back(p.detach().clone());
                start_.push_back(p.detach().clone());
                anchor_.push_back(p.detach().clone());
                path_.push_back(torch::zeros_like(p));
                omega_.push_back(torch::zeros_like(p));
            }
        }
        return false;
    }
    // c * sum_k Omega_k (theta_k - theta*_k)^2: zero during the first task (Omega = 0).
    torch::Tensor extra_loss(const iclr::Batch&, int64_t t) override {
        if (t == 0 || c_ == 0.0) return {};
        torch::Tensor penalty = torch::zeros({});
        for (size_t k = 0; k < params_.size(); ++k)
            penalty = penalty + (omega_[k] * (params_[k] - anchor_[k]).pow(2)).sum();
        if (cp_.log_every > 0 && (step() + 1) % cp_.log_every == 0 && !perturbed_pass())
            ctx().log("si_penalty", penalty.item<double>(), step() + 1, t);
        return c_ * penalty;
    }
    // The gradient the step is about to follow (of the whole loss, as van de Ven et al.'s code).
    void after_backward(int64_t) override {
        grads_.clear();
        for (auto& p : params_)
            grads_.push_back(p.grad().defined() ? p.grad().detach().clone() : torch::zeros_like(p));
    }
    // Path integral: omega_k += -g_k * (theta_k after - theta_k before).
    void after_step(const iclr::Batch&, int64_t) override {
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < params_.size(); ++k) {
            auto now = params_[k].detach();
            path_[k].add_(-grads_[k] * (now - prev_[k]));
            prev_[k].copy_(now);
        }
    }
    // Omega_k += omega_k / ((theta_k end - theta_k start)^2 + xi); the anchor moves to the end point.
    void after_task(int64_t) override {
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < params_.size(); ++k) {
            auto now = params_[k].detach();
            omega_[k].add_(path_[k] / ((now - start_[k]).pow(2) + xi_));
            path_[k].zero_();
            start_[k].copy_(now);
            anchor_[k].copy_(now);
        }
    }

  private:
    double c_, xi_;
    std::vector<torch::Tensor> params_, prev_, start_, anchor_, path_, omega_, grads_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Si, "si", "0.2.0",
            "Zenke, Poole, Ganguli. Continual Learning Through Synaptic Intelligence. ICML 2017.",
            "Synaptic Intelligence: a quadratic penalty weighted by each parameter's path-integral importance, "
            "with any objective")
