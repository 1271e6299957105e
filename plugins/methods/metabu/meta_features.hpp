// Hand-crafted meta-features of a data set's training split, the kind AutoML systems use (the
// general, statistical and landmarking groups of Rivolli et al.'s taxonomy): MetaBu's input and
// its baseline.
#pragma once

#include <string>
#include <vector>

#include "iclr/sdk.hpp"

namespace metabu {

inline const std::vector<std::string>& feature_names() {
    static const std::vector<std::string> names{
        "log_examples",  "classes",    "class_entropy", "pixel_mean",        "pixel_sd",     "background_share",
        "image_sd_mean", "pixel_skew", "pca10_share",   "landmark_centroid", "landmark_1nn", "class_separation"};
    return names;
}

namespace detail {

// Accuracy of the nearest class mean (centroids from `ref`) on `query`.
inline double centroid_accuracy(const torch::Tensor& ref, const torch::Tensor& ry, const torch::Tensor& q,
                                const torch::Tensor& qy, const torch::Tensor& classes) {
    std::vector<torch::Tensor> means;
    for (int64_t i = 0; i < classes.size(0); ++i) {
        auto m = ry == classes[i];
        means.push_back(m.any().item<bool>() ? ref.index({m}).mean(0) : torch::full({ref.size(1)}, 1e6, ref.options()));
    }
    auto pred = classes.index_select(0, torch::cdist(q, torch::stack(means)).argmin(1));
    return (pred == qy).to(torch::kDouble).mean().item<double>();
}

} // namespace detail

// One row of feature_names() for a split with labels in `classes`. The landmarks are 2-fold within
// the training split (a fixed half as reference, the other as queries; 1-NN on at most 1,000).
inline std::vector<double> hand_crafted(const iclr::Split& s) {
    torch::NoGradGuard ng;
    auto x = s.x.flatten(1).to(torch::kFloat32);
    const int64_t n = x.size(0);
    auto classes = std::get<0>(at::_unique(s.y));
    const int64_t k = classes.size(0);
    double entropy = 0;
    for (int64_t i = 0; i < k; ++i) {
        double q = (s.y == classes[i]).sum().item<double>() / double(n);
        entropy -= q * std::log(q);
    }
    entropy = k > 1 ? entropy / std::log(double(k)) : 1.0;
    double mean = x.mean().item<double>(), sd = x.std().item<double>();
    double skew = ((x - mean) / sd).pow(3).mean().item<double>();
    double background = (x <= x.min() + 1e-3).to(torch::kDouble).mean().item<double>();
    double image_sd = x.std(1).mean().item<double>();
    auto centred = x - x.mean(0, true);
    auto sv = torch::linalg_svdvals(centred.to(torch::kDouble)).pow(2);
    double pca10 = (sv.slice(0, 0, 10).sum() / sv.sum().clamp_min(1e-12)).item<double>();
    auto gen = iclr::make_generator(0, 0x3e7a);
    auto perm = torch::randperm(n, gen).to(x.device()); // drawn on the CPU: the same halves anywhere
    auto a = perm.slice(0, 0, n / 2), b = perm.slice(0, n / 2, std::min(n, n / 2 + 1000));
    auto xa = x.index_select(0, a), ya = s.y.index_select(0, a);
    auto xb = x.index_select(0, b), yb = s.y.index_select(0, b);
    double centroid = detail::centroid_accuracy(xa, ya, xb, yb, classes);
    auto nearest = torch::cdist(xb, xa.slice(0, 0, 1000)).argmin(1);
    double nn1 = (ya.index_select(0, nearest) == yb).to(torch::kDouble).mean().item<double>();
    std::vector<torch::Tensor> means;
    double within = 0;
    for (int64_t i = 0; i < k; ++i) {
        auto xi = x.index({s.y == classes[i]});
        means.push_back(xi.mean(0));
        within += (xi - means.back()).norm(2, 1).mean().item<double>() / double(k);
    }
    auto m = torch::stack(means);
    double between = k > 1 ? torch::pdist(m).mean().item<double>() : 1.0;
    return {std::log(double(n)), double(k), entropy, mean, sd, background, image_sd, skew, pca10, centroid, nn1,
            within / between};
}

} // namespace metabu
