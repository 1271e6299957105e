// Cost of the SDK's augmentations (iclr/augment.hpp) per batch of 64 MNIST-sized images on one
// thread: what an SSL method pays for its two views, printed as one JSON object per line.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "iclr/augment.hpp"
#include "iclr/training.hpp"

namespace {

// Median wall time of `reps` calls, in microseconds.
double median_us(const iclr::Augment& a, const torch::Tensor& x, int reps) {
    auto g = iclr::make_generator(1);
    for (int i = 0; i < 5; ++i)
        a(x, g); // warm-up
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto y = a(x, g);
        t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
    return t[size_t(reps / 2)];
}

} // namespace

int main() {
    torch::set_num_threads(1);
    auto x = torch::rand({64, 1, 28, 28});
    struct Case {
        const char* name;
        iclr::Augment a;
    };
    std::vector<Case> cases{
        {"random_shift(2)", iclr::random_shift(2, 0.0)},
        {"random_resized_crop(0.5, 1)", iclr::random_resized_crop(0.5, 1.0)},
        {"random_affine(15 deg, 0.1, 0.9-1.1, shear 10)", iclr::random_affine(15, 0.1, 0.9, 1.1, 10)},
        {"random_contrast(0.6, 1.4)", iclr::random_contrast(0.6, 1.4)},
        {"cutout(8)", iclr::cutout(8, 0.0)},
        {"gaussian_noise(0.1)", iclr::gaussian_noise(0.1)},
        {"continual SSL view: crop + contrast", iclr::compose({iclr::random_resized_crop(0.5, 1.0),
                                                               iclr::random_contrast(0.6, 1.4)})},
    };
    for (const auto& c : cases)
        std::printf("{\"augmentation\": \"%s\", \"batch\": 64, \"median_us\": %.1f}\n", c.name, median_us(c.a, x, 200));
    return 0;
}
