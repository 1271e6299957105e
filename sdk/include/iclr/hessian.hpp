// The Hessian of a loss with respect to parameters, without forming it: Hessian-vector products
// by double backward, its two extreme eigenvalues by power iteration (signed), Hutchinson's trace.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// H v for the loss's Hessian over `params`, on flat vectors of all parameters' entries.
class HessianOperator {
  public:
    // Parameters that do not require grad (a frozen column) are left out; ones the loss does not
    // use (another task's head) have zero rows.
    HessianOperator(const torch::Tensor& loss, const std::vector<torch::Tensor>& params) {
        for (const auto& p : params)
            if (p.requires_grad()) params_.push_back(p);
        grads_ = torch::autograd::grad({loss}, params_, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                       /*allow_unused=*/true);
        for (const auto& p : params_)
            size_ += p.numel();
    }
    int64_t size() const { return size_; }

    torch::Tensor apply(const torch::Tensor& v) {
        torch::Tensor dot = torch::zeros({}, v.options());
        int64_t at = 0;
        for (size_t i = 0; i < params_.size(); ++i) {
            int64_t n = params_[i].numel();
            if (grads_[i].defined() && grads_[i].requires_grad())
                dot = dot + (grads_[i] * v.slice(0, at, at + n).view_as(params_[i]).to(grads_[i].dtype())).sum();
            at += n;
        }
        std::vector<torch::Tensor> hv(params_.size());
        if (dot.requires_grad())
            hv = torch::autograd::grad({dot}, params_, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                       /*allow_unused=*/true);
        std::vector<torch::Tensor> flat;
        for (size_t i = 0; i < params_.size(); ++i)
            flat.push_back(hv[i].defined() ? hv[i].reshape({-1}).to(v.dtype())
                                           : torch::zeros({params_[i].numel()}, v.options()));
        return torch::cat(flat);
    }

  private:
    std::vector<torch::Tensor> params_, grads_;
    int64_t size_ = 0;
};

struct PowerResult {
    double eigenvalue = 0;
    int64_t iterations = 0;
};

// The eigenvalue of largest magnitude of (H - shift I), by power iteration from a random unit
// vector drawn from g, until the Rayleigh quotient changes by less than tol relative (or max_iter).
inline PowerResult power_iteration(HessianOperator& h, double shift, double tol, int64_t max_iter,
                                   torch::Generator& g) {
    auto v = torch::randn({h.size()}, g, torch::kDouble);
    v = v / v.norm();
    PowerResult r;
    for (r.iterations = 1; r.iterations <= max_iter; ++r.iterations) {
        auto w = h.apply(v) - shift * v;
        double lambda = v.dot(w).item<double>(), norm = w.norm().item<double>();
        bool done = r.iterations > 1 && std::abs(lambda - r.eigenvalue) <= tol * std::abs(lambda);
        r.eigenvalue = lambda;
        if (done || norm == 0) break;
        v = w / norm;
    }
    r.iterations = std::min(r.iterations, max_iter);
    return r;
}

struct HessianExtremes {
    double max_eig = 0, min_eig = 0;
    int64_t iterations = 0;
};

// Both ends of the spectrum: power iteration gives the eigenvalue of largest magnitude, d; on
// H - d I it gives the one farthest from d, which is the other end. (A curvature that is all
// positive has min_eig > 0; a saddle has min_eig < 0.)
inline HessianExtremes hessian_extremes(HessianOperator& h, double tol, int64_t max_iter, torch::Generator& g) {
    auto dominant = power_iteration(h, 0.0, tol, max_iter, g);
    auto other = power_iteration(h, dominant.eigenvalue, tol, max_iter, g);
    double a = dominant.eigenvalue, b = other.eigenvalue + dominant.eigenvalue;
    return {std::max(a, b), std::min(a, b), dominant.iterations + other.iterations};
}

// Hutchinson's estimate of tr(H): the mean of z^T H z over `samples` Rademacher vectors z.
inline double hutchinson_trace(HessianOperator& h, int64_t samples, torch::Generator& g) {
    double sum = 0;
    for (int64_t s = 0; s < samples; ++s) {
        auto z = torch::randint(0, 2, {h.size()}, g, torch::kDouble) * 2.0 - 1.0;
        sum += z.dot(h.apply(z)).item<double>();
    }
    return sum / double(samples);
}

} // namespace iclr
