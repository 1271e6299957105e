// Four-fold rotations of image batches: E-SSL's rotation-prediction targets and rotation as an
// augmentation (the "rotation invariance" E-SSL argues against).
#pragma once

#include <utility>

#include <torch/torch.h>

namespace iclr {

// Each image of x [N, C, H, W] turned k quarter turns counter-clockwise (torch::rot90 over the
// spatial dims, as E-SSL's official code's flip/transpose); H must equal W.
inline torch::Tensor rotate90(const torch::Tensor& x, int64_t k) { return torch::rot90(x, k, {2, 3}); }

// The batch in all four orientations, [4N, C, H, W], and the label of each (k = 0, 1, 2, 3 for
// 0, 90, 180, 270 degrees), in blocks of N as E-SSL's code lays them out.
inline std::pair<torch::Tensor, torch::Tensor> four_rotations(const torch::Tensor& x) {
    int64_t n = x.size(0);
    std::vector<torch::Tensor> images, labels;
    for (int64_t k = 0; k < 4; ++k) {
        images.push_back(rotate90(x, k));
        labels.push_back(torch::full({n}, k, x.options().dtype(torch::kLong)));
    }
    return {torch::cat(images), torch::cat(labels)};
}

// Rotation as an augmentation: each image, with probability p, turned by k quarter turns with k
// uniform in {1, 2, 3}; the others are left as they are. Draws from g (on the CPU: the same turns on
// every device).
inline torch::Tensor random_rotation(const torch::Tensor& x, double p, torch::Generator& g) {
    int64_t n = x.size(0);
    auto turn = torch::rand({n}, g) < p;
    auto k = torch::randint(1, 4, {n}, g, torch::kLong) * turn.to(torch::kLong);
    auto out = x.clone();
    for (int64_t q = 1; q < 4; ++q) {
        auto idx = (k == q).nonzero().flatten().to(x.device());
        if (idx.numel() > 0) out.index_copy_(0, idx, rotate90(x.index_select(0, idx), q));
    }
    return out;
}

} // namespace iclr
