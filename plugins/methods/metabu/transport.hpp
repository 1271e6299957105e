// MetaBu's two transport computations (Rakotoarison et al. 2022): the exact Wasserstein distance
// between two data sets' top-L configurations (the "oracle" topology), and the fused
// Gromov-Wasserstein loss that aligns mapped meta-features with that topology.
#pragma once

#include <algorithm>
#include <limits>
#include <vector>

#include "iclr/sdk.hpp"

namespace metabu {

// The minimum of sum_i cost[i][perm(i)] over permutations (Hungarian method with potentials,
// O(n^3)): the optimal transport between two uniform n-point clouds is a permutation (Birkhoff).
inline double assignment_cost(const std::vector<std::vector<double>>& cost) {
    const size_t n = cost.size();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> u(n + 1, 0), v(n + 1, 0);
    std::vector<size_t> match(n + 1, 0), way(n + 1, 0); // match[column] = row, 1-based; 0 = free
    for (size_t row = 1; row <= n; ++row) {
        match[0] = row;
        size_t col0 = 0;
        std::vector<double> minv(n + 1, inf);
        std::vector<char> used(n + 1, 0);
        do { // grow an alternating tree from `row` until it reaches a free column
            used[col0] = 1;
            size_t r = match[col0], col1 = 0;
            double delta = inf;
            for (size_t c = 1; c <= n; ++c)
                if (!used[c]) {
                    double cur = cost[r - 1][c - 1] - u[r] - v[c];
                    if (cur < minv[c]) minv[c] = cur, way[c] = col0;
                    if (minv[c] < delta) delta = minv[c], col1 = c;
                }
            for (size_t c = 0; c <= n; ++c)
                if (used[c])
                    u[match[c]] += delta, v[c] -= delta;
                else
                    minv[c] -= delta;
            col0 = col1;
        } while (match[col0] != 0);
        do { // flip the path
            size_t col1 = way[col0];
            match[col0] = match[col1];
            col0 = col1;
        } while (col0 != 0);
    }
    double total = 0;
    for (size_t c = 1; c <= n; ++c)
        total += cost[match[c] - 1][c - 1];
    return total;
}

// W between two equal-size uniform point clouds [L, d] with squared Euclidean ground cost (the
// official code's ot.emd on ot.dist, whose default metric is squared Euclidean).
inline double wasserstein(const torch::Tensor& a, const torch::Tensor& b) {
    if (a.size(0) != b.size(0)) throw iclr::PluginError("metabu: top-L clouds of different sizes");
    auto m = torch::cdist(a.to(torch::kDouble), b.to(torch::kDouble)).pow(2).contiguous();
    const int64_t n = m.size(0);
    std::vector<std::vector<double>> cost(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(n), 0.0));
    auto acc = m.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
            cost[size_t(i)][size_t(j)] = acc[i][j];
    return assignment_cost(cost) / double(n);
}

// Squared Euclidean distances between the rows of a and of b (differentiable).
inline torch::Tensor sq_distances(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(2);
}

// The fused Gromov-Wasserstein discrepancy between point sets source [n, d] and target [n, d'] with
// uniform weights, as the official code computes it (after Xu et al.'s relational autoencoders):
// 10 rounds of a proximal Sinkhorn update of the coupling from `init` (kernel exp(-cost / max|cost|)
// times the current coupling, 5 scaling sweeps each), the coupling then held fixed (no gradient), and
// the loss sum(cost * coupling) with cost = alpha * GW term + (1 - alpha) * squared distance
// source_i - target_j. The official code starts from the identity (data set i <-> its own oracle
// point); a diagonal start keeps the coupling diagonal, so the loss is then the closed form
// alpha / n^2 * sum_ik (Ds_ik - Dt_ik)^2 + (1 - alpha) / n * sum_i |s_i - t_i|^2 (the test checks it).
inline torch::Tensor fgw_loss(const torch::Tensor& source, const torch::Tensor& target, double alpha,
                              const torch::Tensor& init, torch::Tensor* coupling_out = nullptr) {
    auto cs = sq_distances(source, source), ct = sq_distances(target, target), cst = sq_distances(source, target);
    const int64_t ns = cs.size(0), nt = ct.size(0);
    auto cost_of = [&](const torch::Tensor& tran) {
        // |a - b|^2 = a^2 + b^2 - 2ab, marginalised over the uniform weights (cost_mat in the paper's code).
        auto f1 = (cs * cs).sum(1, true) / double(ns), f2 = (ct * ct).sum(1, true) / double(nt);
        auto gw = f1 + f2.t() - 2 * cs.matmul(tran).matmul(ct.t());
        return alpha * gw + (1 - alpha) * cst;
    };
    auto tran = init.to(source.dtype()).detach();
    {
        torch::NoGradGuard ng;
        auto ps = torch::full({ns, 1}, 1.0 / double(ns), source.options());
        auto pt = torch::full({nt, 1}, 1.0 / double(nt), source.options());
        auto dual = ps.clone();
        for (int round = 0; round < 10; ++round) {
            auto cost = cost_of(tran);
            auto kernel = torch::exp(-cost / cost.abs().max()) * tran;
            auto b = pt / kernel.t().matmul(dual);
            for (int i = 0; i < 5; ++i) {
                dual = ps / kernel.matmul(b);
                b = pt / kernel.t().matmul(dual);
            }
            tran = dual.matmul(b.t()) * kernel;
        }
        if (torch::isnan(tran).any().item<bool>())
            tran = torch::full({ns, nt}, 1.0 / double(ns * nt), source.options());
    }
    if (coupling_out) *coupling_out = tran;
    return (cost_of(tran) * tran).sum();
}

} // namespace metabu
