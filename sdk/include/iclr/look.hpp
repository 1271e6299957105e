// LOOK's loss (Feng et al., "Rethinking supervised pre-training for better downstream
// transferring", ICLR 2022): leave-one-out weighted kNN classification over a feature memory.
#pragma once

#include <limits>

#include <torch/torch.h>

namespace iclr {

struct LookTerms {
    torch::Tensor loss;  // mean over the examples that have a same-label neighbour
    double purity = 0;   // share of the k neighbours that carry the example's label
    int64_t orphans = 0; // examples none of whose k neighbours carries their label (no gradient)
};

// z [B, D]: the batch's L2-normalised embeddings (gradients flow through them); y [B] its labels.
// bank [M, D]: L2-normalised embeddings of the training set (no gradient), bank_y [M] their
// labels; self_index [B]: each example's own row in the bank (-1: not in it), left out of its
// neighbours. With s_ij = z_i . bank_j / tau and N_i the k most similar rows,
//   L_i = -log( sum_{j in N_i, y_j = y_i} e^{s_ij} / sum_{j in N_i} e^{s_ij} ).
// An example with no same-label neighbour has L_i = +inf and no usable gradient (its
// probability is exactly 0): it is left out of the mean and counted in `orphans`.
inline LookTerms look_loss(const torch::Tensor& z, const torch::Tensor& y, const torch::Tensor& bank,
                           const torch::Tensor& bank_y, const torch::Tensor& self_index, int64_t k, double tau) {
    const double inf = std::numeric_limits<double>::infinity();
    int64_t b = z.size(0);
    auto s = torch::matmul(z, bank.detach().t()) / tau;
    auto in_bank = (self_index >= 0).nonzero().flatten();
    if (in_bank.numel() > 0) {
        auto rows = in_bank, cols = self_index.index_select(0, in_bank);
        s = s.index_put({rows, cols}, torch::full({rows.size(0)}, -inf, s.options()));
    }
    auto [top, idx] = s.topk(k, 1);
    auto same = bank_y.index_select(0, idx.flatten()).view({b, k}) == y.unsqueeze(1);
    auto has = same.any(1).nonzero().flatten();
    LookTerms out;
    out.purity = same.to(torch::kDouble).mean().item<double>();
    out.orphans = b - has.size(0);
    if (has.numel() == 0) {
        out.loss = (z * 0).sum(); // keeps the graph; nothing to learn from this batch
        return out;
    }
    auto t = top.index_select(0, has), m = same.index_select(0, has);
    auto all = torch::logsumexp(t, 1), pos = torch::logsumexp(t.masked_fill(~m, -inf), 1);
    out.loss = (all - pos).mean();
    return out;
}

} // namespace iclr
