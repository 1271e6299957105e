// SimCLR's contrastive loss (NT-Xent, InfoNCE over the other 2N - 1 views of the batch), for the
// papers that compare a contrastive objective with others. Included by name.
#pragma once

#include <torch/torch.h>

namespace iclr {

// Chen et al., ICML 2020: z1, z2 [N, D] projections of two views of the same N images. With
// u = L2-normalised [z1; z2] and s_ij = u_i . u_j / tau, the loss of view i with positive p(i)
// (the other view of its image) is -log(e^{s_i,p(i)} / sum_{k != i} e^{s_ik}), averaged over
// all 2N views.
inline torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double tau) {
    namespace F = torch::nn::functional;
    int64_t n = z1.size(0);
    auto u = F::normalize(torch::cat({z1, z2}), F::NormalizeFuncOptions().dim(1));
    auto s = torch::matmul(u, u.t()) / tau;
    s = s.masked_fill(torch::eye(2 * n, s.options().dtype(torch::kBool)), -INFINITY); // k != i
    auto index = s.options().dtype(torch::kLong);
    auto positive = torch::cat({torch::arange(n, 2 * n, index), torch::arange(0, n, index)});
    return F::cross_entropy(s, positive);
}

} // namespace iclr
