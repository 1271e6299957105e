// VICReg loss (Bardes, Ponce, LeCun, ICLR 2022): invariance + variance + covariance of two views.
#pragma once

#include <torch/torch.h>

namespace iclr {

struct VicregTerms {
    torch::Tensor loss, invariance, variance, covariance;
};

// z1, z2: [N, D] embeddings of two views of the same N inputs.
//   invariance = MSE(z1, z2)
//   variance   = mean_j relu(1 - sqrt(Var z_j + 1e-4)), per view
//   covariance = sum_{i != j} C_ij^2 / D with C = centred z^T z / (N - 1), per view
//   loss = inv_w * invariance + var_w * (v(z1) + v(z2)) / 2 + cov_w * (c(z1) + c(z2))
// The variance term is halved as in the official code; defaults 25 / 25 / 1 as in the paper.
inline VicregTerms vicreg(const torch::Tensor& z1, const torch::Tensor& z2, double inv_w = 25.0, double var_w = 25.0,
                          double cov_w = 1.0) {
    auto n = z1.size(0), d = z1.size(1);
    auto inv = torch::mse_loss(z1, z2);
    auto variance = [](const torch::Tensor& z) { return torch::relu(1.0 - torch::sqrt(z.var(0) + 1e-4)).mean(); };
    auto covariance = [&](const torch::Tensor& z) {
        auto c = z - z.mean(0);
        auto cov = torch::matmul(c.t(), c) / double(n - 1);
        return (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / double(d);
    };
    auto var = variance(z1) + variance(z2);
    auto cv = covariance(z1) + covariance(z2);
    return {inv_w * inv + var_w * var / 2.0 + cov_w * cv, inv, var / 2.0, cv};
}

} // namespace iclr
