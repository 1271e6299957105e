// MetaBu's learned meta-features: the oracle distances embedded by MDS, and the linear map psi from
// hand-crafted meta-features fitted to that embedding by the fused Gromov-Wasserstein loss with an
// L1 penalty (Adam, early stopping on the training data sets' neighbour agreement).
#pragma once

#include <numeric>

#include "transport.hpp"

namespace metabu {

// Columns to zero mean and unit (population) variance with `ref`'s statistics (sklearn's
// StandardScaler); a constant column is only centred.
inline torch::Tensor standardise(const torch::Tensor& x, const torch::Tensor& ref) {
    auto mean = ref.mean(0, true), sd = ref.std(0, /*unbiased=*/false, true);
    return (x - mean) / torch::where(sd > 1e-12, sd, torch::ones_like(sd));
}

// Classical (Torgerson) MDS of a distance matrix [n, n] into `dim` coordinates: the top eigenvectors
// of -1/2 J D^2 J scaled by the root of their eigenvalues (negative ones clipped to 0). Exact for
// Euclidean distances; the official code uses sklearn's iterative metric MDS instead.
inline torch::Tensor classical_mds(const torch::Tensor& d, int64_t dim) {
    auto D = d.to(torch::kDouble);
    const int64_t n = D.size(0);
    auto j = torch::eye(n, torch::kDouble) - 1.0 / double(n);
    auto b = -0.5 * j.matmul(D * D).matmul(j);
    auto [values, vectors] = torch::linalg_eigh(b); // ascending
    auto top = values.flip(0).slice(0, 0, dim).clamp_min(0.0);
    return vectors.flip(1).slice(1, 0, dim) * top.sqrt().unsqueeze(0);
}

// Indices 0..n-1 ordered by `row` ascending, ties by index (numpy's argsort on a stable sort).
inline std::vector<int64_t> order_of(const torch::Tensor& row) {
    auto r = row.to(torch::kDouble).contiguous();
    const double* p = r.data_ptr<double>();
    std::vector<int64_t> idx(size_t(r.numel()));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return p[a] < p[b]; });
    return idx;
}

// The official early-stopping score: sklearn's ndcg_score@k with both relevance and score binarised
// to "among the k nearest". With the k predicted neighbours one tied group, sklearn averages their
// gains, so per row it is exactly |predicted k nearest & true k nearest| / k; the mean over rows.
inline double neighbour_ndcg(const torch::Tensor& pred, const torch::Tensor& truth, int64_t k) {
    const int64_t rows = pred.size(0), cols = pred.size(1);
    k = std::min(k, cols);
    double sum = 0;
    for (int64_t i = 0; i < rows; ++i) {
        auto p = order_of(pred[i]), t = order_of(truth[i]);
        std::vector<char> in_true(size_t(cols), 0);
        for (int64_t r = 0; r < k; ++r)
            in_true[size_t(t[size_t(r)])] = 1;
        int64_t hits = 0;
        for (int64_t r = 0; r < k; ++r)
            hits += in_true[size_t(p[size_t(r)])];
        sum += double(hits) / double(k);
    }
    return sum / double(rows);
}

struct FitOptions {
    double alpha = 0.5, lambda = 1e-3, lr = 0.01;
    int64_t patience = 10, ndcg_k = 10, max_iters = 1000;
};

struct Fit {
    torch::Tensor psi; // [dim, features]: meta-features = x psi^T
    double ndcg = 0;   // the training data sets' score of the kept psi
    int64_t iterations = 0;
};

// psi without bias, initialised as torch.nn.Linear(features, dim, bias=False) from `seed`; every
// iteration one Adam step on fgw_loss(x psi^T, u, identity start) + lambda |psi|_1, then the score
// of the training data sets' neighbours in x psi^T against theirs in u; the best-scoring psi is kept
// and training stops after `patience` iterations without a strict improvement (or at max_iters).
inline Fit fit_psi(const torch::Tensor& x, const torch::Tensor& u, const FitOptions& o, uint64_t seed) {
    const int64_t n = x.size(0), dim = u.size(1);
    auto gen = iclr::make_generator(seed, 0x9b);
    double bound = 1.0 / std::sqrt(double(x.size(1))); // kaiming_uniform(a = sqrt(5)), torch's Linear default
    auto psi = (torch::rand({dim, x.size(1)}, gen) * 2 - 1).mul_(bound).requires_grad_(true);
    torch::optim::Adam adam({psi}, torch::optim::AdamOptions(o.lr));
    auto init = torch::eye(n);
    auto oracle = sq_distances(u, u);
    Fit best{psi.detach().clone(), 0.0, 0};
    for (int64_t it = 0, stale = 0; it < o.max_iters && stale <= o.patience; ++it) {
        auto loss = fgw_loss(x.matmul(psi.t()), u, o.alpha, init) + o.lambda * psi.abs().sum();
        adam.zero_grad();
        loss.backward();
        adam.step();
        torch::NoGradGuard ng;
        auto z = x.matmul(psi.t());
        double score = neighbour_ndcg(sq_distances(z, z), oracle, o.ndcg_k);
        best.iterations = it + 1;
        if (score > best.ndcg) {
            best.ndcg = score, best.psi = psi.detach().clone(), stale = 0;
        } else {
            ++stale;
        }
    }
    return best;
}

} // namespace metabu
