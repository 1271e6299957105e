// Few-shot helpers: ProtoNet's class prototypes and distance logits, episodes drawn
// deterministically from (split, seed, index), and MLTI's task interpolation.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "iclr/dataset.hpp"
#include "iclr/declare.hpp"

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

// An episode whose class k is pools[k]: for each, shots + queries distinct images drawn uniformly
// (a partial Fisher-Yates shuffle), the first `shots` support, the rest query, labels k.
inline Episode episode_from_pools(const std::vector<const torch::Tensor*>& pools, int64_t shots, int64_t queries,
                                  std::mt19937_64& rng) {
    std::vector<torch::Tensor> sx, sy, qx, qy;
    for (size_t k = 0; k < pools.size(); ++k) {
        const torch::Tensor& pool = *pools[k];
        std::vector<int64_t> idx(size_t(pool.size(0)));
        std::iota(idx.begin(), idx.end(), 0);
        for (int64_t i = 0; i < shots + queries; ++i)
            std::swap(idx[size_t(i)], idx[size_t(i) + rng() % (idx.size() - size_t(i))]);
        auto x = pool.index_select(0, torch::tensor(std::vector<int64_t>(idx.begin(), idx.begin() + shots + queries)));
        sx.push_back(x.slice(0, 0, shots));
        qx.push_back(x.slice(0, shots));
        sy.push_back(torch::full({shots}, int64_t(k), torch::kLong));
        qy.push_back(torch::full({queries}, int64_t(k), torch::kLong));
    }
    return {{torch::cat(sx), torch::cat(sy)}, {torch::cat(qx), torch::cat(qy)}, int64_t(pools.size()), shots};
}

// The index-th episode of a split for a given seed: the same whatever else was drawn before, so
// every method of a sweep is tested on the same episodes.
inline Episode episode_at(EpisodeSampler& sampler, const std::string& split, uint64_t seed, uint64_t index) {
    std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(index), uint32_t(index >> 32),
                      uint32_t(split.size() ? split[0] : 0)};
    std::mt19937_64 rng(seq);
    return sampler.sample(split, rng);
}

// MLTI (Yao, Zhang, Finn, ICLR 2022): meta-train on new tasks made by interpolating the episodes
// of a meta-batch, so that fewer meta-training tasks cover more of the task distribution.
struct MltiParams {
    Bool mlti{"mlti", false,
              "task interpolation (MLTI, Yao et al., ICLR 2022): meta-train on mixtures of the meta-batch's episodes"};
    Float mlti_alpha{"mlti_alpha", 2.0, 0.01, 100.0, "lambda ~ Beta(alpha, alpha) (MLTI: 2)"};
    Float mlti_cross{"mlti_cross", 0.75, 0.0, 1.0,
                     "probability that an episode is mixed with the next one of its meta-batch rather than with itself "
                     "(MLTI's code: 3/4)"};
    String mlti_mix{"mlti_mix", "cutmix", "cutmix|mixup",
                    "how two images are mixed: a box of one pasted into the other (MLTI's ProtoNet code) or "
                    "lambda x_i + (1 - lambda) x_j"};
};

// The box [y0, y1) x [x0, x1) of CutMix (Yun et al. 2019) as MLTI's code draws it: sides
// int(side * sqrt(1 - lambda)), centre uniform over the image, clipped to it.
struct CutBox {
    int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
};
inline CutBox cutmix_box(int64_t h, int64_t w, double lambda, std::mt19937_64& rng) {
    double cut = std::sqrt(1.0 - lambda);
    int64_t ch = int64_t(double(h) * cut), cw = int64_t(double(w) * cut);
    int64_t cy = int64_t(rng() % uint64_t(h)), cx = int64_t(rng() % uint64_t(w));
    return {std::clamp(cy - ch / 2, int64_t(0), h), std::clamp(cy + ch / 2, int64_t(0), h),
            std::clamp(cx - cw / 2, int64_t(0), w), std::clamp(cx + cw / 2, int64_t(0), w)};
}

// Class k of the result mixes a's class k with b's class perm[k], image by image (the i-th image
// of one with the i-th of the other), with a's labels: a new N-way task. "mixup":
// lambda x_a + (1 - lambda) x_b; "cutmix": x_a with one box per set (support, query) taken from x_b,
// so a keeps about lambda of the area in both modes. Inputs [n, C, H, W] for cutmix.
inline Episode interpolate_episodes(const Episode& a, const Episode& b, const std::vector<int64_t>& perm, double lambda,
                                    const std::string& mix, std::mt19937_64& rng) {
    if (a.ways != b.ways || int64_t(perm.size()) != a.ways)
        throw PluginError("mlti: episodes of " + std::to_string(a.ways) + " and " + std::to_string(b.ways) + " ways");
    auto mixed = [&](const Split& sa, const Split& sb) {
        // Row i of b_rows is the image of b that row i of a is mixed with.
        auto b_rows = torch::empty({sa.size()}, torch::kLong);
        for (int64_t k = 0; k < a.ways; ++k) {
            auto ia = torch::nonzero(sa.y == k).flatten(), ib = torch::nonzero(sb.y == perm[size_t(k)]).flatten();
            if (ia.size(0) != ib.size(0))
                throw PluginError("mlti: class sizes differ between the episodes (" + std::to_string(ia.size(0)) +
                                  " vs " + std::to_string(ib.size(0)) + ")");
            b_rows.index_put_({ia}, ib);
        }
        auto xb = sb.x.index_select(0, b_rows);
        if (mix == "mixup") return Split{lambda * sa.x + (1.0 - lambda) * xb, sa.y};
        if (mix != "cutmix") throw PluginError("mlti: no mix '" + mix + "' (cutmix, mixup)");
        auto box = cutmix_box(sa.x.size(-2), sa.x.size(-1), lambda, rng);
        auto x = sa.x.clone();
        using torch::indexing::Slice;
        x.index_put_({"...", Slice(box.y0, box.y1), Slice(box.x0, box.x1)},
                     xb.index({"...", Slice(box.y0, box.y1), Slice(box.x0, box.x1)}));
        return Split{x, sa.y};
    };
    Episode out = a;
    out.support = mixed(a.support, b.support);
    out.query = mixed(a.query, b.query);
    return out;
}

// MLTI over a meta-batch: episode i is mixed with episode (i + 1) mod B with probability
// mlti_cross, else with itself, the partner's classes permuted, lambda ~ Beta(alpha, alpha) per
// episode. Its own generator, so that turning MLTI on does not change which episodes are drawn.
class TaskInterpolation {
  public:
    TaskInterpolation(const MltiParams& p, uint64_t seed)
        : on_(p.mlti), cross_(p.mlti_cross), mix_(p.mlti_mix()), beta_(p.mlti_alpha, 1.0), rng_(seed ^ 0x6d6c7469ULL) {}
    bool enabled() const { return on_; }

    // A meta-batch: n training episodes drawn with rng (the method's), then interpolated when on.
    std::vector<Episode> next_batch(EpisodeSampler& sampler, int64_t n, std::mt19937_64& rng) {
        std::vector<Episode> batch;
        for (int64_t e = 0; e < n; ++e)
            batch.push_back(sampler.sample("train", rng));
        return (*this)(batch);
    }

    std::vector<Episode> operator()(const std::vector<Episode>& batch) {
        if (!on_) return batch;
        std::vector<Episode> out;
        for (size_t i = 0; i < batch.size(); ++i) {
            bool cross = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < cross_;
            const Episode& partner = batch[cross ? (i + 1) % batch.size() : i];
            std::vector<int64_t> perm(size_t(batch[i].ways));
            std::iota(perm.begin(), perm.end(), 0);
            std::shuffle(perm.begin(), perm.end(), rng_);
            double g1 = beta_(rng_), g2 = beta_(rng_); // Beta(a, a) = G1 / (G1 + G2), G ~ Gamma(a, 1)
            out.push_back(interpolate_episodes(batch[i], partner, perm, g1 / (g1 + g2), mix_, rng_));
        }
        return out;
    }

  private:
    bool on_;
    double cross_;
    std::string mix_;
    std::gamma_distribution<double> beta_;
    std::mt19937_64 rng_;
};

} // namespace iclr
