// Parameter gradients as one flat vector, and the A-GEM projection: for methods that edit the
// gradient before the optimiser step (A-GEM, GEM) or weigh parameters by it (SI, EWC).
#pragma once

#include <vector>

#include <torch/torch.h>

namespace iclr {

// The gradients of params concatenated in order (zeros where a gradient is undefined).
inline torch::Tensor flat_grad(const std::vector<torch::Tensor>& params) {
    std::vector<torch::Tensor> parts;
    for (const auto& p : params)
        parts.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
    return torch::cat(parts);
}

// Writes a flat vector (as flat_grad returns) back into params' gradients.
inline void set_flat_grad(const std::vector<torch::Tensor>& params, const torch::Tensor& g) {
    int64_t at = 0;
    for (auto p : params) {
        auto part = g.slice(0, at, at + p.numel()).view_as(p);
        if (p.grad().defined())
            p.mutable_grad().copy_(part);
        else
            p.mutable_grad() = part.clone();
        at += p.numel();
    }
}

// A-GEM (Chaudhry, Ranzato, Rohrbach, Elhoseiny, ICLR 2019, Eq. 11): when the current gradient g
// would increase the loss on the episodic memory (g . g_ref < 0), project it onto the half-space
// where it does not: g - (g . g_ref / g_ref . g_ref) g_ref. Otherwise g unchanged. The result has
// a non-negative dot product with g_ref.
inline torch::Tensor agem_project(const torch::Tensor& g, const torch::Tensor& g_ref) {
    auto dot = torch::dot(g, g_ref);
    auto ref2 = torch::dot(g_ref, g_ref);
    if (dot.item<double>() >= 0.0 || ref2.item<double>() == 0.0) return g;
    return g - (dot / ref2) * g_ref;
}

} // namespace iclr
