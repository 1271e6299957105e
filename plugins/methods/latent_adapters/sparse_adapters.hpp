// Sparse latent adapters (Deecke, Hospedales, Bilen, ICLR 2022; official code
// VICO-UoE/LatentDomainLearning): next to each 3x3 convolution of a (frozen) trunk, K 1x1 adapter
// convolutions mixed per example by a gate sparsemax(W · GAP(x)), so examples of one latent domain
// can share adapters without anyone saying which domain an example is from.
#pragma once

#include <torch/torch.h>

namespace latent {

// Sparsemax (Martins & Astudillo 2016) over dim 1 of [N, K]: the Euclidean projection of z onto the
// probability simplex, max(0, z - tau(z)); sums to 1 with exact zeros. tau comes from the support
// size k = max{j : 1 + j z_(j) > sum_{i<=j} z_(i)} (z sorted descending); autograd through this
// form gives sparsemax's Jacobian diag(s) - s s^T / |s| (s = support) since k is locally constant.
inline torch::Tensor sparsemax(const torch::Tensor& z) {
    auto sorted = std::get<0>(z.sort(1, /*descending=*/true));
    auto j = torch::arange(1, z.size(1) + 1, z.options()).unsqueeze(0);
    auto cum = sorted.cumsum(1);
    auto in_support = (1 + j * sorted).gt(cum).to(z.dtype());
    auto k = (in_support * j).amax(1, true);
    auto tau = ((sorted * in_support).sum(1, true) - 1) / k;
    return torch::clamp_min(z - tau, 0.0);
}

// How an adapter layer mixes its adapters: latent = a learned sparsemax gate over K adapters;
// single = one adapter, always on (residual adapters without domains); oracle = one adapter per
// domain, picked by the example's true domain; none = no adapters (the trunk alone).
enum class Mode { Latent, Single, Oracle, None };

inline Mode mode_of(const std::string& s) {
    return s == "latent" ? Mode::Latent : s == "single" ? Mode::Single : s == "oracle" ? Mode::Oracle : Mode::None;
}

// conv3x3(x) + sum_k g_k(x) conv1x1_k(x), then BatchNorm: the official SparseLatentAdapter.
struct AdapterConvImpl : torch::nn::Module {
    AdapterConvImpl(int64_t in, int64_t out, int64_t stride, Mode mode, int64_t k)
        : mode(mode),
          conv(register_module(
              "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)))),
          bn(register_module("bn", torch::nn::BatchNorm2d(out))) {
        int64_t n = mode == Mode::None ? 0 : mode == Mode::Single ? 1 : k;
        for (int64_t i = 0; i < n; ++i)
            adapters->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
        register_module("adapters", adapters);
        if (mode == Mode::Latent) gate = register_module("gate", torch::nn::Linear(in, k));
    }

    // domain: [N] int64, used by the oracle only. adapters_on = false: the trunk alone (pretraining).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& domain, bool adapters_on) {
        auto y = conv(x);
        if (adapters_on && !adapters->is_empty()) {
            torch::Tensor g;
            if (mode == Mode::Latent)
                g = sparsemax(gate(x.mean({2, 3})));
            else if (mode == Mode::Oracle)
                g = torch::one_hot(domain, int64_t(adapters->size())).to(x.dtype());
            else
                g = torch::ones({x.size(0), 1}, x.options());
            last_gate = g.detach();
            for (size_t i = 0; i < adapters->size(); ++i)
                y = y + g.select(1, int64_t(i)).view({-1, 1, 1, 1}) * adapters[i]->as<torch::nn::Conv2d>()->forward(x);
        }
        return bn(y);
    }

    Mode mode;
    torch::nn::Conv2d conv;
    torch::nn::BatchNorm2d bn;
    torch::nn::ModuleList adapters;
    torch::nn::Linear gate{nullptr};
    torch::Tensor last_gate; // [N, K] of the last forward pass
};
TORCH_MODULE(AdapterConv);

// Three adapter layers (c, 2c, 4c channels) with ReLU, 2 x 2 max-pooling after the first two (28 ->
// 14 -> 7, as the `cnn` model: a receptive field of 18 pixels before global average pooling), and a
// linear head: a small stand-in for the official ResNet-26 whose every 3x3 conv has adapters.
struct AdapterNetImpl : torch::nn::Module {
    AdapterNetImpl(int64_t in, int64_t c, int64_t classes, Mode mode, int64_t k) {
        for (auto [i, o] : {std::pair{in, c}, {c, 2 * c}, {2 * c, 4 * c}})
            layers.push_back(register_module("layer" + std::to_string(layers.size()), AdapterConv(i, o, 1, mode, k)));
        head = register_module("head", torch::nn::Linear(4 * c, classes));
    }
    torch::Tensor features(const torch::Tensor& x, const torch::Tensor& domain, bool adapters_on = true) {
        auto h = x;
        for (size_t l = 0; l < layers.size(); ++l) {
            h = torch::relu(layers[l]->forward(h, domain, adapters_on));
            if (l < 2) h = torch::max_pool2d(h, 2);
        }
        return h.mean({2, 3});
    }
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& domain) { return head(features(x, domain)); }

    std::vector<AdapterConv> layers;
    torch::nn::Linear head{nullptr};
};
TORCH_MODULE(AdapterNet);

// How well argmax-gates separate domains: sum over adapters of the count of its most common domain,
// over N (cluster purity; 1 = each adapter's examples come from one domain).
inline double gate_purity(const torch::Tensor& gates, const torch::Tensor& domain, int64_t domains) {
    auto k = gates.argmax(1);
    auto counts = torch::zeros({gates.size(1), domains}, k.options());
    counts.index_put_({k, domain}, torch::ones_like(k), /*accumulate=*/true);
    return double(counts.amax(1).sum().item<int64_t>()) / double(gates.size(0));
}

} // namespace latent
