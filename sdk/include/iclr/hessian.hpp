// The Hessian of a loss with respect to parameters, without forming it: Hessian-vector products
// by double backward, its largest eigenvalue by power iteration, both extreme eigenvalues (signed)
// by Lanczos, Hutchinson's trace.
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
    // Where the parameters are (the CPU when there are none): vectors are drawn on the CPU from a
    // seeded generator, the same on every device, then moved here. Appended in 2.8.
    torch::Device device() const { return params_.empty() ? torch::Device(torch::kCPU) : params_[0].device(); }

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
    auto v = torch::randn({h.size()}, g, torch::kDouble).to(h.device());
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

// Both ends of the spectrum by Lanczos: the three-term recurrence from a random unit vector, each
// new vector re-orthogonalised against all before it, and the extreme eigenvalues of the
// tridiagonal matrix so far (Ritz values). Stops when both ends moved by less than tol x the
// spectral radius on two steps in a row, after max_iter steps, or when the Krylov space is
// exhausted. (Power iteration shifted by the top eigenvalue reaches the bottom one only slowly:
// with a 1e-3 relative stop it returned ~0 for the most negative eigenvalue of every ViT.)
inline HessianExtremes hessian_extremes(HessianOperator& h, double tol, int64_t max_iter, torch::Generator& g) {
    int64_t m = std::min(max_iter, h.size());
    auto v = torch::randn({h.size()}, g, torch::kDouble).to(h.device());
    std::vector<torch::Tensor> basis{v / v.norm()};
    std::vector<double> alpha, beta;
    HessianExtremes out;
    int calm = 0;
    for (int64_t j = 0; j < m; ++j) {
        auto w = h.apply(basis[size_t(j)]);
        alpha.push_back(basis[size_t(j)].dot(w).item<double>());
        for (const auto& u : basis) // full re-orthogonalisation (twice is enough: Kahan)
            w = w - u.dot(w) * u;
        for (const auto& u : basis)
            w = w - u.dot(w) * u;
        auto t = torch::diag(torch::tensor(alpha, torch::kDouble));
        if (!beta.empty()) {
            auto off = torch::tensor(beta, torch::kDouble);
            t = t + torch::diag(off, 1) + torch::diag(off, -1);
        }
        auto ritz = torch::linalg_eigvalsh(t, "L");
        double hi = ritz[-1].item<double>(), lo = ritz[0].item<double>();
        double radius = std::max(std::abs(hi), std::abs(lo));
        bool still = j > 0 && std::abs(hi - out.max_eig) <= tol * radius && std::abs(lo - out.min_eig) <= tol * radius;
        calm = still ? calm + 1 : 0;
        out = {hi, lo, j + 1};
        double b = w.norm().item<double>();
        if (calm >= 2 || b <= 1e-12 * std::max(radius, 1e-300)) break;
        beta.push_back(b);
        basis.push_back(w / b);
    }
    return out;
}

// Hutchinson's estimate of tr(H): the mean of z^T H z over `samples` Rademacher vectors z.
inline double hutchinson_trace(HessianOperator& h, int64_t samples, torch::Generator& g) {
    double sum = 0;
    for (int64_t s = 0; s < samples; ++s) {
        auto z = (torch::randint(0, 2, {h.size()}, g, torch::kDouble) * 2.0 - 1.0).to(h.device());
        sum += z.dot(h.apply(z)).item<double>();
    }
    return sum / double(samples);
}

} // namespace iclr
