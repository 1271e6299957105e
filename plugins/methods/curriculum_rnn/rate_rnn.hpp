// The rate RNN, the representation-based loss and linear CKA of curriculum_rnn, in a header so
// that tests pin them on hand-computed tensors.
#pragma once

#include <cmath>
#include <vector>

#include <torch/torch.h>

namespace curriculum_rnn {

// tau dh/dt = -h + tanh(W h + U x + b), Euler steps of dt = alpha tau from h = 0: x [n, T, in] ->
// the hidden states [n, T, hidden].
struct RateRnnImpl : torch::nn::Module {
    RateRnnImpl(int64_t in, int64_t hidden, double alpha) : alpha(alpha) {
        U = register_module("U", torch::nn::Linear(in, hidden));
        W = register_module("W", torch::nn::Linear(torch::nn::LinearOptions(hidden, hidden).bias(false)));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto h = torch::zeros({x.size(0), W->options.in_features()}, x.options());
        std::vector<torch::Tensor> hs;
        for (int64_t t = 0; t < x.size(1); ++t) {
            h = (1 - alpha) * h + alpha * torch::tanh(W(h) + U(x.select(1, t)));
            hs.push_back(h);
        }
        return torch::stack(hs, 1);
    }
    torch::nn::Linear U{nullptr}, W{nullptr};
    double alpha;
};
TORCH_MODULE(RateRnn);

// Representation-based loss: the final states' cosine-similarity matrix against the one the labels
// ask for (1 within a class, 0 across: orthogonal class codes), mean squared difference.
torch::Tensor representation_loss(const torch::Tensor& h, const torch::Tensor& y) {
    auto z = torch::nn::functional::normalize(h, torch::nn::functional::NormalizeFuncOptions().dim(1));
    auto want = y.unsqueeze(0).eq(y.unsqueeze(1)).to(z.dtype());
    return (z.matmul(z.t()) - want).pow(2).mean();
}

// Linear CKA (Kornblith et al., ICML 2019) of two [samples, features] matrices.
double linear_cka(torch::Tensor a, torch::Tensor b) {
    a = (a - a.mean(0)).to(torch::kDouble);
    b = (b - b.mean(0)).to(torch::kDouble);
    double cross = a.t().matmul(b).pow(2).sum().item<double>();
    return cross / std::sqrt(a.t().matmul(a).pow(2).sum().item<double>() * b.t().matmul(b).pow(2).sum().item<double>());
}

} // namespace curriculum_rnn
