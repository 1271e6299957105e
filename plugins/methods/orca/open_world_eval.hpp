// Open-world evaluation (ORCA's protocol): Hungarian matching of predicted to true classes,
// k-means with k-means++ starts, and the mapping of k-means clusters to seen classes through the
// labelled examples, so baselines without a novel-class head still predict one label per example.
#pragma once

#include <algorithm>
#include <limits>
#include <vector>

#include <torch/torch.h>

namespace orca {

// The assignment row -> column of a square matrix that maximises the summed weight (Kuhn-Munkres
// with potentials, O(n^3)); scipy's linear_sum_assignment on (max - w) in ORCA's cluster_acc.
inline std::vector<int64_t> max_assignment(const std::vector<std::vector<double>>& w) {
    const auto n = int64_t(w.size());
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> u(size_t(n + 1), 0.0), v(size_t(n + 1), 0.0);
    std::vector<int64_t> col_owner(size_t(n + 1), 0), way(size_t(n + 1), 0);
    for (int64_t i = 1; i <= n; ++i) {
        col_owner[0] = i;
        int64_t j0 = 0;
        std::vector<double> minv(size_t(n + 1), inf);
        std::vector<bool> used(size_t(n + 1), false);
        do {
            used[size_t(j0)] = true;
            int64_t i0 = col_owner[size_t(j0)], j1 = 0;
            double delta = inf;
            for (int64_t j = 1; j <= n; ++j) {
                if (used[size_t(j)]) continue;
                double cur = -w[size_t(i0 - 1)][size_t(j - 1)] - u[size_t(i0)] - v[size_t(j)];
                if (cur < minv[size_t(j)]) minv[size_t(j)] = cur, way[size_t(j)] = j0;
                if (minv[size_t(j)] < delta) delta = minv[size_t(j)], j1 = j;
            }
            for (int64_t j = 0; j <= n; ++j)
                if (used[size_t(j)]) {
                    u[size_t(col_owner[size_t(j)])] += delta;
                    v[size_t(j)] -= delta;
                } else {
                    minv[size_t(j)] -= delta;
                }
            j0 = j1;
        } while (col_owner[size_t(j0)] != 0);
        do {
            int64_t j1 = way[size_t(j0)];
            col_owner[size_t(j0)] = col_owner[size_t(j1)];
            j0 = j1;
        } while (j0 != 0);
    }
    std::vector<int64_t> row_to_col(size_t(n), 0);
    for (int64_t j = 1; j <= n; ++j)
        if (col_owner[size_t(j)] > 0) row_to_col[size_t(col_owner[size_t(j)] - 1)] = j - 1;
    return row_to_col;
}

// Clustering accuracy: the share of examples right under the best one-to-one relabelling of the
// predictions (ORCA's cluster_acc). A permuted labelling scores 1.
inline double hungarian_accuracy(const torch::Tensor& pred, const torch::Tensor& truth) {
    if (pred.numel() == 0) return 0.0;
    auto p = pred.cpu().to(torch::kInt64).contiguous(), t = truth.cpu().to(torch::kInt64).contiguous();
    int64_t d = std::max(p.max().item<int64_t>(), t.max().item<int64_t>()) + 1;
    std::vector<std::vector<double>> w(size_t(d), std::vector<double>(size_t(d), 0.0));
    auto pa = p.accessor<int64_t, 1>(), ta = t.accessor<int64_t, 1>();
    for (int64_t i = 0; i < p.size(0); ++i)
        w[size_t(pa[i])][size_t(ta[i])] += 1;
    auto a = max_assignment(w);
    double right = 0;
    for (int64_t r = 0; r < d; ++r)
        right += w[size_t(r)][size_t(a[size_t(r)])];
    return right / double(p.size(0));
}

struct KMeans {
    torch::Tensor centroids; // [k, d]
    torch::Tensor assign;    // [n] cluster of each point
    double inertia = 0;      // summed squared distance to the assigned centroid
};

// Nearest centroid of each row of x.
inline torch::Tensor nearest(const torch::Tensor& x, const torch::Tensor& centroids) {
    return torch::cdist(x, centroids).argmin(1);
}

// Lloyd's k-means from a k-means++ start (up to max_iter rounds, until no point moves); an empty
// cluster takes the point farthest from its centroid. Best inertia of `restarts` starts.
inline KMeans kmeans(const torch::Tensor& x, int64_t k, torch::Generator& gen, int64_t restarts = 3,
                     int64_t max_iter = 100) {
    KMeans best;
    best.inertia = std::numeric_limits<double>::infinity();
    int64_t n = x.size(0);
    for (int64_t r = 0; r < restarts; ++r) {
        std::vector<int64_t> picks{torch::randint(0, n, {1}, gen).item<int64_t>()};
        auto d2 = (x - x[picks[0]]).pow(2).sum(1);
        while (int64_t(picks.size()) < k) { // k-means++: the next start with probability ~ d^2
            auto next = torch::multinomial(d2.clamp_min(1e-12), 1, false, gen).item<int64_t>();
            picks.push_back(next);
            d2 = torch::minimum(d2, (x - x[next]).pow(2).sum(1));
        }
        auto c = x.index_select(0, torch::tensor(picks)).clone();
        torch::Tensor assign;
        for (int64_t it = 0; it < max_iter; ++it) {
            auto next = nearest(x, c);
            if (assign.defined() && torch::equal(next, assign)) break;
            assign = next;
            for (int64_t j = 0; j < k; ++j) {
                auto members = torch::nonzero(assign == j).flatten();
                if (members.numel() > 0) {
                    c[j] = x.index_select(0, members).mean(0);
                } else {
                    auto far = (x - c.index_select(0, assign)).pow(2).sum(1).argmax().item<int64_t>();
                    c[j] = x[far];
                    assign[far] = j;
                }
            }
        }
        double inertia = (x - c.index_select(0, assign)).pow(2).sum().item<double>();
        if (inertia < best.inertia) best = {c, assign, inertia};
    }
    return best;
}

// Cluster -> label: the seen classes go to the clusters that hold most of their labelled examples
// (a one-to-one assignment), the other clusters become novel labels seen, seen + 1, ... in
// cluster order. Uses labelled examples only. Returns [k] labels.
inline torch::Tensor label_clusters(const torch::Tensor& labelled_assign, const torch::Tensor& labelled_y, int64_t k,
                                    int64_t seen) {
    std::vector<std::vector<double>> w(size_t(k), std::vector<double>(size_t(k), 0.0));
    auto a = labelled_assign.cpu().to(torch::kInt64).contiguous(), y = labelled_y.cpu().to(torch::kInt64).contiguous();
    auto aa = a.accessor<int64_t, 1>(), ya = y.accessor<int64_t, 1>();
    for (int64_t i = 0; i < a.size(0); ++i)
        if (ya[i] < seen) w[size_t(aa[i])][size_t(ya[i])] += 1;
    auto col = max_assignment(w); // columns >= seen are placeholders for novel clusters
    std::vector<int64_t> label(static_cast<size_t>(k), 0);
    int64_t novel = seen;
    for (int64_t j = 0; j < k; ++j)
        label[size_t(j)] = col[size_t(j)] < seen ? col[size_t(j)] : novel++;
    return torch::tensor(label);
}

} // namespace orca
