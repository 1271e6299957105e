// cosFormer attention (Qin et al., ICLR 2022): ReLU feature maps and a cos re-weighting of
// query-key distance, in linear time by the sin/cos decomposition, and the explicit quadratic form.
#pragma once

#include <torch/torch.h>

#include <cmath>

namespace iclr {

// The re-weighting angle of each position i = 1..L: (π/2) · i / M, M = the sequence length (the
// official code's get_index with m = max(src_len, tgt_len), here self-attention: M = L).
inline torch::Tensor cosformer_angles(int64_t length, const torch::TensorOptions& options) {
    return torch::arange(1, length + 1, options) * (M_PI / 2.0 / double(length));
}

// q, k, v: [..., L, d]. sim(i, j) = ReLU(q_i) · ReLU(k_j) · cos(π/2 · (i − j) / L); the output row i
// is Σ_j sim(i, j) v_j / max(Σ_j sim(i, j), eps). Since cos(a − b) = cos a cos b + sin a sin b, each
// query and key splits into a cos part and a sin part and the sums over j are taken once:
// O = [Q_c (K_cᵀ V) + Q_s (K_sᵀ V)] / [Q_c Σ_j K_c,j + Q_s Σ_j K_s,j]: O(L d²), not O(L² d).
inline torch::Tensor cosformer_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         double eps = 1e-6) {
    auto a = cosformer_angles(q.size(-2), q.options()).unsqueeze(-1); // [L, 1]
    auto qr = torch::relu(q), kr = torch::relu(k);
    auto qx = torch::cat({qr * torch::sin(a), qr * torch::cos(a)}, -1); // [..., L, 2d]
    auto kx = torch::cat({kr * torch::sin(a), kr * torch::cos(a)}, -1);
    auto kv = torch::matmul(kx.transpose(-2, -1), v);                    // [..., 2d, d]
    auto z = torch::matmul(qx, kx.sum(-2).unsqueeze(-1)).clamp_min(eps); // [..., L, 1]
    return torch::matmul(qx, kv) / z;
}

// The same attention with the L × L weights written out (the official code's left_product): the
// reference the linear form is tested against, and what cosFormer costs without the decomposition.
inline torch::Tensor cosformer_attention_quadratic(const torch::Tensor& q, const torch::Tensor& k,
                                                   const torch::Tensor& v, double eps = 1e-6) {
    auto a = cosformer_angles(q.size(-2), q.options());
    auto w = torch::cos(a.unsqueeze(-1) - a.unsqueeze(0)); // [L, L]
    auto sim = torch::matmul(torch::relu(q), torch::relu(k).transpose(-2, -1)) * w;
    return torch::matmul(sim / sim.sum(-1, true).clamp_min(eps), v);
}

} // namespace iclr
