// SimSiam's and Barlow Twins' losses (iclr/ssl_losses.hpp).
#include "iclr/ssl_losses.hpp"

namespace iclr {

torch::Tensor simsiam_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& z1,
                           const torch::Tensor& z2) {
    namespace F = torch::nn::functional;
    auto d = [](const torch::Tensor& p, const torch::Tensor& z) {
        return -F::cosine_similarity(p, z.detach(), F::CosineSimilarityFuncOptions().dim(1)).mean();
    };
    return 0.5 * d(p1, z2) + 0.5 * d(p2, z1);
}

BarlowTerms barlow_twins_loss(const torch::Tensor& z1, const torch::Tensor& z2, double lambda, double eps) {
    auto norm = [eps](const torch::Tensor& z) {
        auto mean = z.mean(0, true);
        auto var = (z - mean).pow(2).mean(0, true);
        return (z - mean) / torch::sqrt(var + eps);
    };
    auto n = double(z1.size(0));
    auto c = torch::matmul(norm(z1).t(), norm(z2)) / n;
    auto diag = c.diagonal();
    auto on = (1.0 - diag).pow(2).sum();
    auto off = c.pow(2).sum() - diag.pow(2).sum();
    return {on + lambda * off, on, off};
}

} // namespace iclr
