// SimSiam and Barlow Twins losses, next to VICReg (vicreg.hpp): the objectives of unsupervised
// continual learning (LUMP and its baselines).
#pragma once

#include <torch/torch.h>

namespace iclr {

// SimSiam (Chen & He, CVPR 2021): p1, p2 the predictor outputs and z1, z2 the projector outputs of
// two views, all [N, D]. loss = -1/2 cos(p1, sg(z2)) - 1/2 cos(p2, sg(z1)), averaged over the
// batch; sg = stop-gradient (z is detached), which is what keeps SimSiam from collapsing.
// Minimum -1 (predictions aligned with the other view's projection).
torch::Tensor simsiam_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& z1,
                           const torch::Tensor& z2);

struct BarlowTerms {
    torch::Tensor loss, on_diagonal, off_diagonal;
};

// Barlow Twins (Zbontar et al., ICML 2021): each embedding dimension of z1, z2 [N, D] is
// normalised over the batch as BatchNorm1d(affine = false) does in training (biased variance,
// eps 1e-5), C = z1n^T z2n / N, loss = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2, lambda 5e-3
// as in the paper and the official code.
BarlowTerms barlow_twins_loss(const torch::Tensor& z1, const torch::Tensor& z2, double lambda = 5e-3,
                              double eps = 1e-5);

} // namespace iclr
