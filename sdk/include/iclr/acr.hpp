// Augmentation overlap as Wang et al. ("Chaos is a Ladder", ICLR 2022) measure it: how often an
// augmented view's nearest neighbour is a view of another image (ACR), and how much training
// lowered that (ARC).
#pragma once

#include <limits>

#include <torch/torch.h>

namespace iclr {

// features [N, D] of N augmented views, anchor [N] the image each view was made from. The share of
// views whose most cosine-similar other view (itself excluded) comes from a different image.
inline double augmentation_confusion(const torch::Tensor& features, const torch::Tensor& anchor) {
    auto f = torch::nn::functional::normalize(features.to(torch::kDouble),
                                              torch::nn::functional::NormalizeFuncOptions().dim(1));
    auto sim = torch::matmul(f, f.t());
    sim.fill_diagonal_(-std::numeric_limits<double>::infinity());
    auto nearest = sim.argmax(1);
    return (anchor.index_select(0, nearest) != anchor).to(torch::kDouble).mean().item<double>();
}

// ARC = (1 - ACR_end) / (1 - ACR_start): above 1 when training made views of one image find each
// other more often than the initial network did.
inline double augmentation_relative_confusion(double acr_start, double acr_end) {
    return (1.0 - acr_end) / (1.0 - acr_start);
}

} // namespace iclr
