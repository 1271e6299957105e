// Scoring a recommendation the way the paper's warm-start experiments use it: the best
// configurations of the nearest training data sets are tried on the held-out one; what counts is
// the rank (1 = best of the grid) and the accuracy regret of the best configuration tried.
#pragma once

#include <random>

#include "embedding.hpp"

namespace metabu {

// The performance matrix [tasks, configs] and what follows from it.
struct Performance {
    torch::Tensor accuracy; // [T, C] double
    // 1 + the number of configurations strictly better on task t.
    int64_t rank(int64_t t, int64_t c) const {
        auto row = accuracy[t];
        return 1 + (row > row[c]).sum().item<int64_t>();
    }
    int64_t best(int64_t t) const { return accuracy[t].argmax().item<int64_t>(); }
    // The configurations of task t from best to worst (ties by grid order).
    std::vector<int64_t> ordered(int64_t t) const { return order_of(-accuracy[t]); }
};

struct Outcome {
    double rank = 0, regret = 0; // of the best configuration in the list, on the held-out task
};

inline Outcome score(const Performance& p, int64_t t, const std::vector<int64_t>& configs) {
    Outcome o{1e9, 0};
    for (int64_t c : configs)
        o.rank = std::min(o.rank, double(p.rank(t, c)));
    double tried = -1;
    for (int64_t c : configs)
        tried = std::max(tried, p.accuracy[t][c].item<double>());
    o.regret = p.accuracy[t].max().item<double>() - tried;
    return o;
}

// The best configuration of each of the first `n` data sets of `neighbours` (in order), repeats
// dropped: the warm-start list (AutoSklearn's meta-learning initialisation, as the paper uses it).
inline std::vector<int64_t> warm_start(const Performance& p, const std::vector<int64_t>& neighbours, int64_t n) {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < std::min<int64_t>(n, int64_t(neighbours.size())); ++i) {
        int64_t c = p.best(neighbours[size_t(i)]);
        if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
    return out;
}

// Training data sets ordered by the given distances from the query (one per training data set).
inline std::vector<int64_t> nearest_by_distance(const torch::Tensor& distances, const std::vector<int64_t>& train) {
    std::vector<int64_t> out;
    for (int64_t i : order_of(distances))
        out.push_back(train[size_t(i)]);
    return out;
}

// Training data sets (indices into `train`) ordered by Euclidean distance from `query` in a space
// whose training rows are `space`.
inline std::vector<int64_t> nearest(const torch::Tensor& query, const torch::Tensor& space,
                                    const std::vector<int64_t>& train) {
    return nearest_by_distance((space - query.unsqueeze(0)).pow(2).sum(1), train);
}

// The `n` configurations with the best mean rank over the training data sets: a recommendation
// that ignores the held-out data set altogether.
inline std::vector<int64_t> global_best(const Performance& p, const std::vector<int64_t>& train, int64_t n) {
    const int64_t configs = p.accuracy.size(1);
    auto mean = torch::zeros({configs}, torch::kDouble);
    for (int64_t t : train)
        for (int64_t c = 0; c < configs; ++c)
            mean[c] += double(p.rank(t, c)) / double(train.size());
    auto order = order_of(mean);
    return {order.begin(), order.begin() + std::min<int64_t>(n, configs)};
}

} // namespace metabu
