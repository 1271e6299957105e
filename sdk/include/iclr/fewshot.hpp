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
torch::Tensor prototype_logits(const torch::Tensor& support_features, const torch::Tensor& support_y,
                               const torch::Tensor& query_features, int64_t ways);

// An episode whose class k is pools[k]: for each, shots + queries distinct images drawn uniformly
// (a partial Fisher-Yates shuffle), the first `shots` support, the rest query, labels k.
Episode episode_from_pools(const std::vector<const torch::Tensor*>& pools, int64_t shots, int64_t queries,
                           std::mt19937_64& rng);

// The index-th episode of a split for a given seed: the same whatever else was drawn before, so
// every method of a sweep is tested on the same episodes.
Episode episode_at(EpisodeSampler& sampler, const std::string& split, uint64_t seed, uint64_t index);

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
CutBox cutmix_box(int64_t h, int64_t w, double lambda, std::mt19937_64& rng);

// Class k of the result mixes a's class k with b's class perm[k], image by image (the i-th image
// of one with the i-th of the other), with a's labels: a new N-way task. "mixup":
// lambda x_a + (1 - lambda) x_b; "cutmix": x_a with one box per set (support, query) taken from x_b,
// so a keeps about lambda of the area in both modes. Inputs [n, C, H, W] for cutmix.
Episode interpolate_episodes(const Episode& a, const Episode& b, const std::vector<int64_t>& perm, double lambda,
                             const std::string& mix, std::mt19937_64& rng);

// MLTI over a meta-batch: episode i is mixed with episode (i + 1) mod B with probability
// mlti_cross, else with itself, the partner's classes permuted, lambda ~ Beta(alpha, alpha) per
// episode. Its own generator, so that turning MLTI on does not change which episodes are drawn.
class TaskInterpolation {
  public:
    TaskInterpolation(const MltiParams& p, uint64_t seed);
    bool enabled() const { return on_; }

    // A meta-batch: n training episodes drawn with rng (the method's), then interpolated when on.
    std::vector<Episode> next_batch(EpisodeSampler& sampler, int64_t n, std::mt19937_64& rng);

    std::vector<Episode> operator()(const std::vector<Episode>& batch);

  private:
    bool on_;
    double cross_;
    std::string mix_;
    std::gamma_distribution<double> beta_;
    std::mt19937_64 rng_;
};

} // namespace iclr
