// The CPU reference for the CUDA kernels, in double: cosFormer's linear form and its explicit
// quadratic form (the L × L weights written out), which must agree.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace cosformer_ref {

inline double angle(int j, int length) { return M_PI / 2.0 * double(j + 1) / double(length); }

// x: [heads, length, dim]; returns the same shape.
inline std::vector<double> linear(const std::vector<float>& q, const std::vector<float>& k,
                                  const std::vector<float>& v, int heads, int length, int dim, double eps) {
    std::vector<double> out(q.size());
    for (int h = 0; h < heads; ++h) {
        size_t base = size_t(h) * length * dim;
        std::vector<double> kv(size_t(2) * dim * dim, 0.0), ksum(size_t(2) * dim, 0.0);
        for (int j = 0; j < length; ++j) {
            double s = std::sin(angle(j, length)), c = std::cos(angle(j, length));
            for (int m = 0; m < dim; ++m) {
                double r = std::max(0.0f, k[base + size_t(j) * dim + m]);
                ksum[m] += r * s;
                ksum[dim + m] += r * c;
                for (int t = 0; t < dim; ++t) {
                    double vt = v[base + size_t(j) * dim + t];
                    kv[size_t(m) * dim + t] += r * s * vt;
                    kv[size_t(dim + m) * dim + t] += r * c * vt;
                }
            }
        }
        for (int i = 0; i < length; ++i) {
            double s = std::sin(angle(i, length)), c = std::cos(angle(i, length)), den = 0.0;
            std::vector<double> num(dim, 0.0);
            for (int m = 0; m < dim; ++m) {
                double r = std::max(0.0f, q[base + size_t(i) * dim + m]);
                den += r * s * ksum[m] + r * c * ksum[dim + m];
                for (int t = 0; t < dim; ++t)
                    num[t] += r * s * kv[size_t(m) * dim + t] + r * c * kv[size_t(dim + m) * dim + t];
            }
            for (int t = 0; t < dim; ++t)
                out[base + size_t(i) * dim + t] = num[t] / std::max(den, eps);
        }
    }
    return out;
}

// The same with every weight s(i, j) = ReLU(q_i)·ReLU(k_j)·cos(angle_i − angle_j) formed: O(L² d).
inline std::vector<double> quadratic(const std::vector<float>& q, const std::vector<float>& k,
                                     const std::vector<float>& v, int heads, int length, int dim, double eps) {
    std::vector<double> out(q.size(), 0.0);
    for (int h = 0; h < heads; ++h) {
        size_t base = size_t(h) * length * dim;
        for (int i = 0; i < length; ++i) {
            double den = 0.0;
            std::vector<double> num(dim, 0.0);
            for (int j = 0; j < length; ++j) {
                double dot = 0.0;
                for (int m = 0; m < dim; ++m)
                    dot += double(std::max(0.0f, q[base + size_t(i) * dim + m])) *
                           std::max(0.0f, k[base + size_t(j) * dim + m]);
                double w = dot * std::cos(angle(i, length) - angle(j, length));
                den += w;
                for (int t = 0; t < dim; ++t)
                    num[t] += w * v[base + size_t(j) * dim + t];
            }
            for (int t = 0; t < dim; ++t)
                out[base + size_t(i) * dim + t] = num[t] / std::max(den, eps);
        }
    }
    return out;
}

} // namespace cosformer_ref
