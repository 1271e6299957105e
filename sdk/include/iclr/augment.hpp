// Augmentation pipelines for self-supervised methods: two random views of one batch.
#pragma once

#include <functional>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// An augmentation maps a batch [N, C, H, W] to an augmented batch of the same shape, drawing its
// randomness from the given generator so that views are reproducible from the trial seed.
using Augment = std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)>;

// Applies each augmentation in order (crop, flip, noise, ...).
inline Augment compose(std::vector<Augment> steps) {
    return [steps = std::move(steps)](const torch::Tensor& x, torch::Generator& g) {
        torch::Tensor out = x;
        for (const auto& s : steps)
            out = s(out, g);
        return out;
    };
}

// SSL methods (VICReg, SimSiam, LUMP) train on two independent views of the same batch.
inline std::pair<torch::Tensor, torch::Tensor> two_views(const Augment& a, const torch::Tensor& x,
                                                         torch::Generator& g) {
    return {a(x, g), a(x, g)};
}

} // namespace iclr
