// ViTGAN's two discriminator stabilisers (Lee et al. 2022): improved spectral normalisation
// W · σ(W_init) / σ(W) and L2-distance self-attention with tied query and key projections.
#pragma once

#include <cmath>

#include "iclr/sdk.hpp"

namespace vitgan {

enum class Norm { None, Spectral, Improved };

inline Norm norm_of(const std::string& s) {
    if (s == "none") return Norm::None;
    if (s == "sn") return Norm::Spectral;
    if (s == "isn") return Norm::Improved;
    throw iclr::PluginError("unknown spectral_norm '" + s + "' (none, sn, isn)");
}

// The largest singular value of a matrix, by power iteration from a fixed start (for σ(W_init)).
inline double spectral_norm(const torch::Tensor& w, int64_t iterations = 200) {
    torch::NoGradGuard ng;
    auto m = w.to(torch::kDouble).flatten(1);
    auto v = torch::ones({m.size(1)}, torch::kDouble) / std::sqrt(double(m.size(1)));
    for (int64_t k = 0; k < iterations; ++k)
        v = torch::nn::functional::normalize(m.t().mv(m.mv(v)), torch::nn::functional::NormalizeFuncOptions().dim(0));
    return m.mv(v).norm().item<double>();
}

// A linear layer whose weight is divided by its spectral norm (Miyato et al. 2018: one power
// iteration per training forward, u kept between calls) and, for ISN, multiplied back by the
// spectral norm it had at initialisation, so every layer starts as initialised instead of at norm 1.
struct NormLinearImpl : torch::nn::Module {
    NormLinearImpl(int64_t in, int64_t out, Norm norm) : norm(norm) {
        torch::nn::Linear init(in, out); // PyTorch's initialisation
        weight = register_parameter("weight", init->weight.detach().clone());
        bias = register_parameter("bias", init->bias.detach().clone());
        if (norm == Norm::None) return;
        auto opts = torch::nn::functional::NormalizeFuncOptions().dim(0);
        u = register_buffer("u", torch::nn::functional::normalize(torch::randn({out}), opts));
        { // 15 power iterations before the first step, as torch.nn.utils.parametrizations.spectral_norm
            torch::NoGradGuard ng;
            for (int k = 0; k < 15; ++k)
                u.copy_(torch::nn::functional::normalize(
                    weight.mv(torch::nn::functional::normalize(weight.t().mv(u), opts)), opts));
        }
        scale = norm == Norm::Improved ? spectral_norm(weight) : 1.0;
    }
    // The weight the layer applies.
    torch::Tensor effective() {
        if (norm == Norm::None) return weight;
        torch::Tensor v;
        {
            torch::NoGradGuard ng;
            auto opts = torch::nn::functional::NormalizeFuncOptions().dim(0);
            v = torch::nn::functional::normalize(weight.t().mv(u), opts);
            if (is_training()) u.copy_(torch::nn::functional::normalize(weight.mv(v), opts));
        }
        // Differentiable in W, as Miyato et al.; a copy of u, since the next forward updates u in place
        // while this one's graph still needs it (PyTorch's spectral_norm clones it too).
        auto sigma = torch::dot(u.clone(), weight.mv(v));
        return weight * (scale / sigma);
    }
    torch::Tensor forward(const torch::Tensor& x) { return torch::nn::functional::linear(x, effective(), bias); }
    Norm norm;
    double scale = 1.0;
    torch::Tensor weight, bias, u;
};
TORCH_MODULE(NormLinear);

// Self-attention over [N, L, D]: dot product softmax(Q Kᵀ / √d_h) V, or ViTGAN's L2 attention
// softmax(−‖q_i − k_j‖² / √d_h) V with the key projection tied to the query's (W_k = W_q), which
// makes attention Lipschitz (Kim et al. 2021).
struct AttentionImpl : torch::nn::Module {
    AttentionImpl(int64_t dim, int64_t heads, bool l2, Norm norm)
        : heads(heads), l2(l2), q(register_module("q", NormLinear(dim, dim, norm))),
          v(register_module("v", NormLinear(dim, dim, norm))), out(register_module("out", NormLinear(dim, dim, norm))) {
        if (!l2) k = register_module("k", NormLinear(dim, dim, norm));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto n = x.size(0), l = x.size(1), d = x.size(2), dh = d / heads;
        auto split = [&](const torch::Tensor& t) { return t.view({n, l, heads, dh}).transpose(1, 2); };
        auto qh = split(q(x)), vh = split(v(x));
        auto kh = l2 ? qh : split(k(x));
        torch::Tensor s;
        if (l2)
            s = -(qh.pow(2).sum(-1, true) - 2 * torch::matmul(qh, kh.transpose(-2, -1)) +
                  kh.pow(2).sum(-1).unsqueeze(-2)) /
                std::sqrt(double(dh));
        else
            s = torch::matmul(qh, kh.transpose(-2, -1)) / std::sqrt(double(dh));
        weights = torch::softmax(s, -1);
        return out(torch::matmul(weights, vh).transpose(1, 2).reshape({n, l, d}));
    }
    int64_t heads;
    bool l2;
    NormLinear q, v, out, k{nullptr};
    torch::Tensor weights;
};
TORCH_MODULE(Attention);

// The discriminator: a small ViT (patch embedding, CLS token, learned positions, pre-norm blocks)
// scoring an image real (large) or generated (small); every linear layer normalised as `norm` says.
struct DiscriminatorImpl : torch::nn::Module {
    DiscriminatorImpl(int64_t patch, int64_t dim, int64_t depth, int64_t heads, bool l2, Norm norm)
        : patch(patch), embed(register_module("embed", NormLinear(patch * patch, dim, norm))),
          head(register_module("head", NormLinear(dim, 1, norm))) {
        int64_t tokens = (28 / patch) * (28 / patch);
        pos = register_parameter("pos", torch::randn({1, tokens + 1, dim}) * 0.02);
        cls = register_parameter("cls", torch::zeros({1, 1, dim}));
        for (int64_t b = 0; b < depth; ++b) {
            auto s = "block" + std::to_string(b);
            ln1.push_back(register_module(s + "_ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}))));
            attn.push_back(register_module(s + "_attn", Attention(dim, heads, l2, norm)));
            ln2.push_back(register_module(s + "_ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}))));
            fc1.push_back(register_module(s + "_fc1", NormLinear(dim, 2 * dim, norm)));
            fc2.push_back(register_module(s + "_fc2", NormLinear(2 * dim, dim, norm)));
        }
        norm_out = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    }
    // images [N, 1, 28, 28] in [-1, 1] -> logits [N].
    torch::Tensor forward(const torch::Tensor& x) {
        auto n = x.size(0), g = 28 / patch;
        auto p = x.view({n, g, patch, g, patch}).permute({0, 1, 3, 2, 4}).reshape({n, g * g, patch * patch});
        auto t = torch::cat({cls.expand({n, 1, -1}), embed(p)}, 1) + pos;
        for (size_t b = 0; b < attn.size(); ++b) {
            t = t + attn[b](ln1[b](t));
            t = t + fc2[b](torch::nn::functional::leaky_relu(
                        fc1[b](ln2[b](t)), torch::nn::functional::LeakyReLUFuncOptions().negative_slope(0.2)));
        }
        return head(norm_out(t).select(1, 0)).squeeze(-1);
    }
    int64_t patch;
    NormLinear embed, head;
    torch::Tensor pos, cls;
    std::vector<torch::nn::LayerNorm> ln1, ln2;
    std::vector<Attention> attn;
    std::vector<NormLinear> fc1, fc2;
    torch::nn::LayerNorm norm_out{nullptr};
};
TORCH_MODULE(Discriminator);

// DCGAN's generator at MNIST size: z -> 128 x 7 x 7 -> 64 x 14 x 14 -> 1 x 28 x 28 in [-1, 1].
struct GeneratorImpl : torch::nn::Module {
    explicit GeneratorImpl(int64_t z)
        : fc(register_module("fc", torch::nn::Linear(z, 128 * 7 * 7))),
          bn0(register_module("bn0", torch::nn::BatchNorm2d(128))),
          up1(register_module(
              "up1", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1)))),
          bn1(register_module("bn1", torch::nn::BatchNorm2d(64))),
          up2(register_module(
              "up2", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(64, 1, 4).stride(2).padding(1)))) {}
    torch::Tensor forward(const torch::Tensor& z) {
        auto x = torch::relu(bn0(fc(z).view({-1, 128, 7, 7})));
        return torch::tanh(up2(torch::relu(bn1(up1(x)))));
    }
    torch::nn::Linear fc;
    torch::nn::BatchNorm2d bn0;
    torch::nn::ConvTranspose2d up1;
    torch::nn::BatchNorm2d bn1;
    torch::nn::ConvTranspose2d up2;
};
TORCH_MODULE(Generator);

// Fréchet distance between Gaussians N(m1, S1) and N(m2, S2):
// ‖m1 − m2‖² + Tr(S1 + S2 − 2 (S1^½ S2 S1^½)^½), in double, through symmetric eigendecompositions
// (Tr((S1 S2)^½) = Tr((S1^½ S2 S1^½)^½), the second matrix symmetric positive semi-definite).
inline double frechet_distance(const torch::Tensor& m1, const torch::Tensor& s1, const torch::Tensor& m2,
                               const torch::Tensor& s2) {
    auto a = s1.to(torch::kDouble), b = s2.to(torch::kDouble);
    auto [e, q] = torch::linalg_eigh(a);
    auto root = q.matmul(torch::diag(e.clamp_min(0).sqrt())).matmul(q.t());
    auto mid = root.matmul(b).matmul(root);
    auto cross = torch::linalg_eigvalsh((mid + mid.t()) / 2).clamp_min(0).sqrt().sum();
    auto d = (m1 - m2).to(torch::kDouble);
    return (d.dot(d) + a.trace() + b.trace() - 2 * cross).item<double>();
}

// The same between two samples of features [N, D] (covariance with N − 1).
inline double frechet_distance(const torch::Tensor& f1, const torch::Tensor& f2) {
    auto cov = [](const torch::Tensor& f) {
        auto c = f.to(torch::kDouble) - f.to(torch::kDouble).mean(0, true);
        return c.t().matmul(c) / double(f.size(0) - 1);
    };
    return frechet_distance(f1.to(torch::kDouble).mean(0), cov(f1), f2.to(torch::kDouble).mean(0), cov(f2));
}

} // namespace vitgan
