// Time per attention forward against sequence length N = 64 … 4,096 on one thread: softmax
// attention, cosFormer's linear form and its quadratic form (iclr/cosformer.hpp), one JSON object
// per line, then the exponent k of time ~ N^k fitted in log-log, over all N and over N >= 512.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "iclr/cosformer.hpp"

namespace {

using Attention = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&)>;

double median_ms(const Attention& f, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int reps) {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 2; ++i)
        f(q, k, v); // warm-up
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto y = f(q, k, v);
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
    return t[size_t(reps / 2)];
}

// Least-squares slope of log(ms) on log(n) over the points with n >= from.
double exponent(const std::vector<int>& n, const std::vector<double>& ms, int from) {
    std::vector<double> x, y;
    for (size_t i = 0; i < n.size(); ++i)
        if (n[i] >= from) {
            x.push_back(std::log(double(n[i])));
            y.push_back(std::log(ms[i]));
        }
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        mx += x[i] / double(x.size());
        my += y[i] / double(y.size());
    }
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxy / sxx;
}

} // namespace

int main() {
    torch::set_num_threads(1);
    torch::manual_seed(0);
    const int heads = 4, dim = 16; // the vit model's width 64 with 4 heads
    struct Kind {
        const char* name;
        Attention f;
    };
    std::vector<Kind> kinds{
        {"softmax",
         [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
             return torch::matmul(torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(dim)), -1),
                                  v);
         }},
        {"cosformer", [](const torch::Tensor& q, const torch::Tensor& k,
                         const torch::Tensor& v) { return iclr::cosformer_attention(q, k, v); }},
        {"cosformer_quadratic", [](const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v) { return iclr::cosformer_attention_quadratic(q, k, v); }},
    };
    std::vector<int> lengths;
    for (int n = 64; n <= 4096; n *= 2)
        lengths.push_back(n);
    for (const auto& kind : kinds) {
        std::vector<double> ms;
        for (int n : lengths) {
            auto q = torch::randn({1, heads, n, dim}), k = torch::randn({1, heads, n, dim}),
                 v = torch::randn({1, heads, n, dim});
            ms.push_back(median_ms(kind.f, q, k, v, n >= 2048 ? 5 : 20));
            std::printf("{\"attention\": \"%s\", \"n\": %d, \"heads\": %d, \"dim\": %d, \"median_ms\": %.4f}\n",
                        kind.name, n, heads, dim, ms.back());
        }
        std::printf("{\"attention\": \"%s\", \"exponent\": %.3f, \"exponent_from_512\": %.3f}\n", kind.name,
                    exponent(lengths, ms, 64), exponent(lengths, ms, 512));
    }
    return 0;
}
