// Augmentation pipelines for self-supervised methods: two random views of one batch.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// An augmentation maps a batch [N, C, H, W] to an augmented batch of the same shape, drawing its
// randomness from the given generator so that views are reproducible from the trial seed.
using Augment = std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)>;

// Applies each augmentation in order (crop, flip, noise, ...).
Augment compose(std::vector<Augment> steps);

// SSL methods (VICReg, SimSiam, LUMP) train on two independent views of the same batch.
std::pair<torch::Tensor, torch::Tensor> two_views(const Augment& a, const torch::Tensor& x, torch::Generator& g);

// Shifts each image by a random offset in [-max_shift, max_shift] pixels (zero-filled): the
// small-image stand-in for random resized crops.
Augment random_shift(int64_t max_shift, double fill);

// Resamples each image i at the points theta[i] maps the output grid to ([-1, 1] coordinates,
// affine_grid's convention), bilinear, with the border pixels repeated outside the image (the
// background of a digit).
torch::Tensor warp(const torch::Tensor& x, const torch::Tensor& theta);

// Random resized crop (SimSiam's and LUMP's first augmentation): a crop covering a fraction
// s ~ U(scale_min, scale_max) of the image's area with aspect ratio r ~ logU(3/4, 4/3) (each side
// at most the image's), at a uniform position, resized back to H x W with bilinear sampling.
Augment random_resized_crop(double scale_min = 0.2, double scale_max = 1.0);

// Random affine transform (torchvision's RandomAffine on tensors): rotation by U(-degrees,
// degrees), translation by U(-translate, translate) of the width and height, scale U(scale_min,
// scale_max), horizontal shear U(-shear, shear) degrees, about the image centre. Each image's
// forward map M = T R Sh S is inverted for grid_sample, bilinear, borders repeated (the background
// of a digit).
Augment random_affine(double degrees, double translate, double scale_min, double scale_max, double shear = 0.0);

// Contrast: each image's pixels are pulled towards (or pushed from) its own mean by a factor
// f ~ U(low, high): x' = mean + f (x - mean).
Augment random_contrast(double low, double high);

// Cutout (DeVries & Taylor 2017): one size x size square per image, at a uniform position inside
// it, set to `fill`.
Augment cutout(int64_t size, double fill);

// Adds N(0, sd^2) noise.
Augment gaussian_noise(double sd);

} // namespace iclr
