// Disentanglement of a code with respect to known generative factors: the mutual information of
// each code dimension (histogram-discretised) with each factor, and the mutual information gap
// (MIG, Chen et al., NeurIPS 2018). Included by name.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// Each column of codes [N, D] cut into `bins` equal-width bins between its min and max (as
// disentanglement_lib's histogram discretisation); a constant column falls in bin 0. -> [N, D] int64.
inline torch::Tensor discretize(const torch::Tensor& codes, int64_t bins) {
    auto c = codes.to(torch::kDouble);
    auto lo = std::get<0>(c.min(0, true)), hi = std::get<0>(c.max(0, true));
    auto width = (hi - lo).clamp_min(1e-12) / double(bins);
    return ((c - lo) / width).floor().clamp(0, double(bins - 1)).to(torch::kLong);
}

// Entropy (nats) of the empirical distribution of integer levels [N].
inline double entropy_of(const torch::Tensor& levels) {
    auto counts = torch::bincount(levels - levels.min()).to(torch::kDouble);
    auto p = counts.masked_select(counts > 0) / double(levels.size(0));
    return -(p * p.log()).sum().item<double>();
}

// Plug-in mutual information (nats) between two integer-valued [N] vectors.
inline double mutual_information(const torch::Tensor& a, const torch::Tensor& b) {
    auto x = a - a.min(), y = b - b.min();
    int64_t ny = y.max().item<int64_t>() + 1, nx = x.max().item<int64_t>() + 1;
    auto joint = torch::bincount(x * ny + y, {}, nx * ny).to(torch::kDouble).view({nx, ny}) / double(a.size(0));
    auto px = joint.sum(1, true), py = joint.sum(0, true);
    auto nz = joint > 0;
    auto ratio = joint / (px * py);
    return (joint.masked_select(nz) * ratio.masked_select(nz).log()).sum().item<double>();
}

struct FactorScore {
    double gap = 0;  // (I_1 - I_2) / H(v): the top dimension's lead over the runner-up
    double best = 0; // I_1 / H(v): how much of the factor the most informative dimension holds
};

// For one factor [N] and discretised codes [N, D]: I(z_j; v) for every dimension, normalised by H(v).
// A factor with one level (H = 0) scores 0.
inline FactorScore factor_score(const torch::Tensor& binned, const torch::Tensor& factor) {
    double h = entropy_of(factor);
    if (h <= 0) return {};
    std::vector<double> mi;
    for (int64_t j = 0; j < binned.size(1); ++j)
        mi.push_back(mutual_information(binned.select(1, j), factor));
    std::sort(mi.begin(), mi.end(), std::greater<>());
    double second = mi.size() > 1 ? mi[1] : 0.0;
    return {(mi[0] - second) / h, mi[0] / h};
}

} // namespace iclr
