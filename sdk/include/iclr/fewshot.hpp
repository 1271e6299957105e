// Few-shot helpers: ProtoNet's class prototypes and distance logits, and episodes drawn
// deterministically from (split, seed, index).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>

#include "iclr/dataset.hpp"

namespace iclr {

// Snell et al. 2017: prototype c_k = mean of the support features of class k; logits of a query
// feature f are −‖f − c_k‖² (squared Euclidean, the paper's choice). support_y in 0..ways-1.
inline torch::Tensor prototype_logits(const torch::Tensor& support_features, const torch::Tensor& support_y,
                                      const torch::Tensor& query_features, int64_t ways) {
    auto onehot = torch::one_hot(support_y, ways).to(support_features.dtype()); // [S, ways]
    auto counts = onehot.sum(0).unsqueeze(1);                                   // [ways, 1]
    auto prototypes = onehot.t().matmul(support_features) / counts;             // [ways, D]
    return -(query_features.unsqueeze(1) - prototypes.unsqueeze(0)).pow(2).sum(-1);
}

// The index-th episode of a split for a given seed: the same whatever else was drawn before, so
// every method of a sweep is tested on the same episodes.
inline Episode episode_at(EpisodeSampler& sampler, const std::string& split, uint64_t seed, uint64_t index) {
    std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(index), uint32_t(index >> 32),
                      uint32_t(split.size() ? split[0] : 0)};
    std::mt19937_64 rng(seq);
    return sampler.sample(split, rng);
}

} // namespace iclr
