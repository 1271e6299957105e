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

// Shifts each image by a random offset in [-max_shift, max_shift] pixels (zero-filled): the
// small-image stand-in for random resized crops.
inline Augment random_shift(int64_t max_shift, double fill) {
    return [max_shift, fill](const torch::Tensor& x, torch::Generator& g) {
        auto out = torch::full_like(x, fill);
        int64_t h = x.size(2), w = x.size(3);
        auto shifts = torch::randint(-max_shift, max_shift + 1, {x.size(0), 2}, g, torch::kLong);
        auto acc = shifts.accessor<int64_t, 2>();
        for (int64_t i = 0; i < x.size(0); ++i) {
            int64_t dy = acc[i][0], dx = acc[i][1];
            int64_t y0 = std::max<int64_t>(0, dy), x0 = std::max<int64_t>(0, dx);
            int64_t y1 = std::min(h, h + dy), x1 = std::min(w, w + dx);
            out[i].slice(1, y0, y1).slice(2, x0, x1).copy_(x[i].slice(1, y0 - dy, y1 - dy).slice(2, x0 - dx, x1 - dx));
        }
        return out;
    };
}

// Adds N(0, sd^2) noise.
inline Augment gaussian_noise(double sd) {
    return [sd](const torch::Tensor& x, torch::Generator& g) { return x + sd * at::normal(0.0, 1.0, x.sizes(), g); };
}

} // namespace iclr
