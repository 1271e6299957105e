// Augmentation pipelines: composition, two views, crops, affine maps, contrast, cutout, noise
// (iclr/augment.hpp).
#include "iclr/augment.hpp"

namespace iclr {

Augment compose(std::vector<Augment> steps) {
    return [steps = std::move(steps)](const torch::Tensor& x, torch::Generator& g) {
        torch::Tensor out = x;
        for (const auto& s : steps)
            out = s(out, g);
        return out;
    };
}

std::pair<torch::Tensor, torch::Tensor> two_views(const Augment& a, const torch::Tensor& x, torch::Generator& g) {
    return {a(x, g), a(x, g)};
}

Augment random_shift(int64_t max_shift, double fill) {
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

torch::Tensor warp(const torch::Tensor& x, const torch::Tensor& theta) {
    auto grid = torch::nn::functional::affine_grid(theta.to(x.device(), x.scalar_type()), x.sizes().vec(), false);
    return torch::nn::functional::grid_sample(x, grid,
                                              torch::nn::functional::GridSampleFuncOptions()
                                                  .mode(torch::kBilinear)
                                                  .padding_mode(torch::kBorder)
                                                  .align_corners(false));
}

Augment random_resized_crop(double scale_min, double scale_max) {
    return [scale_min, scale_max](const torch::Tensor& x, torch::Generator& g) {
        int64_t n = x.size(0);
        auto u = at::rand({n, 4}, g, torch::kFloat64);
        auto acc = u.accessor<double, 2>();
        auto theta = torch::zeros({n, 2, 3}, torch::kFloat32);
        for (int64_t i = 0; i < n; ++i) {
            double area = scale_min + (scale_max - scale_min) * acc[i][0];
            double ratio = std::exp(std::log(3.0 / 4.0) + (std::log(4.0 / 3.0) - std::log(3.0 / 4.0)) * acc[i][1]);
            double w = std::min(1.0, std::sqrt(area * ratio)), h = std::min(1.0, std::sqrt(area / ratio));
            // affine_grid maps output [-1, 1] to input coordinates: scale by the crop's size, shift
            // its centre anywhere the crop stays inside the image.
            theta[i][0][0] = float(w);
            theta[i][1][1] = float(h);
            theta[i][0][2] = float((1.0 - w) * (2.0 * acc[i][2] - 1.0));
            theta[i][1][2] = float((1.0 - h) * (2.0 * acc[i][3] - 1.0));
        }
        return warp(x, theta);
    };
}

Augment random_affine(double degrees, double translate, double scale_min, double scale_max, double shear) {
    return [=](const torch::Tensor& x, torch::Generator& g) {
        int64_t n = x.size(0);
        auto u = at::rand({n, 5}, g, torch::kFloat64);
        auto acc = u.accessor<double, 2>();
        auto theta = torch::zeros({n, 2, 3}, torch::kFloat32);
        const double rad = 3.14159265358979323846 / 180.0;
        for (int64_t i = 0; i < n; ++i) {
            double a = (2.0 * acc[i][0] - 1.0) * degrees * rad, sh = (2.0 * acc[i][4] - 1.0) * shear * rad;
            double s = scale_min + (scale_max - scale_min) * acc[i][3];
            // In grid coordinates [-1, 1] a translation by a fraction f of the side is 2f.
            double tx = 2.0 * (2.0 * acc[i][1] - 1.0) * translate, ty = 2.0 * (2.0 * acc[i][2] - 1.0) * translate;
            // M = R(a) [1 tan(sh); 0 1] s
            double m00 = s * std::cos(a), m01 = s * (std::cos(a) * std::tan(sh) - std::sin(a));
            double m10 = s * std::sin(a), m11 = s * (std::sin(a) * std::tan(sh) + std::cos(a));
            double det = m00 * m11 - m01 * m10;
            double i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
            theta[i][0][0] = float(i00);
            theta[i][0][1] = float(i01);
            theta[i][1][0] = float(i10);
            theta[i][1][1] = float(i11);
            theta[i][0][2] = float(-(i00 * tx + i01 * ty));
            theta[i][1][2] = float(-(i10 * tx + i11 * ty));
        }
        return warp(x, theta);
    };
}

Augment random_contrast(double low, double high) {
    return [low, high](const torch::Tensor& x, torch::Generator& g) {
        auto f = (low + (high - low) * at::rand({x.size(0), 1, 1, 1}, g, x.scalar_type())).to(x.device());
        auto mean = x.mean({1, 2, 3}, true);
        return mean + f * (x - mean);
    };
}

Augment cutout(int64_t size, double fill) {
    return [size, fill](const torch::Tensor& x, torch::Generator& g) {
        auto out = x.clone();
        int64_t h = x.size(2), w = x.size(3), s = std::min({size, h, w});
        auto pos = at::rand({x.size(0), 2}, g, torch::kFloat64);
        auto acc = pos.accessor<double, 2>();
        for (int64_t i = 0; i < x.size(0); ++i) {
            int64_t y0 = std::min(h - s, int64_t(acc[i][0] * double(h - s + 1)));
            int64_t x0 = std::min(w - s, int64_t(acc[i][1] * double(w - s + 1)));
            out[i].slice(1, y0, y0 + s).slice(2, x0, x0 + s).fill_(fill);
        }
        return out;
    };
}

Augment gaussian_noise(double sd) {
    return [sd](const torch::Tensor& x, torch::Generator& g) {
        return x + sd * at::normal(0.0, 1.0, x.sizes(), g).to(x.device());
    };
}

} // namespace iclr
