// ORCA's three objectives (Cao, Brbic, Leskovec, ICLR 2022, eqs. 4-6 and the official
// snap-stanford/orca code): cross-entropy with an uncertainty-adaptive (negative) margin on the
// labelled examples, a pairwise objective whose positives are same-label pairs and nearest
// neighbours, and a regulariser that keeps the batch's mean prediction spread over the classes.
#pragma once

#include <torch/torch.h>

namespace orca {

// A cosine classifier: logits = scale * cos(feature, w_k) (the official NormedLinear, scale 10).
struct NormedLinearImpl : torch::nn::Module {
    NormedLinearImpl(int64_t in, int64_t out, double scale) : scale(scale) {
        weight = register_parameter("weight", torch::empty({in, out}).uniform_(-1, 1));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        namespace F = torch::nn::functional;
        return scale * F::normalize(x, F::NormalizeFuncOptions().dim(1))
                           .mm(F::normalize(weight, F::NormalizeFuncOptions().dim(0)));
    }
    torch::Tensor weight;
    double scale;
};
TORCH_MODULE(NormedLinear);

// Cross-entropy with the target logit raised by scale * margin: margin > 0 is a negative margin
// that slows the seen classes down while the novel ones are still being formed. ORCA sets margin =
// min(mean uncertainty of the unlabelled data, 0.5) each epoch (code: MarginLoss(m = -u), whose
// x - m * s adds u * s to the target logit).
inline torch::Tensor margin_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target, double margin,
                                          double scale) {
    auto onehot = torch::zeros_like(logits).scatter_(1, target.view({-1, 1}), 1.0);
    return torch::nn::functional::cross_entropy(logits + scale * margin * onehot, target);
}

// The partner of each example of a batch whose first n_labelled rows are labelled (labels y): a
// labelled example gets a random other labelled example of its class (itself when it is alone in
// its class), an unlabelled one its nearest neighbour by cosine similarity among all the batch's
// other examples. features are detached by the caller.
inline torch::Tensor partners(const torch::Tensor& features, const torch::Tensor& y, torch::Generator& gen) {
    int64_t n = features.size(0), nl = y.size(0);
    auto out = torch::empty({n}, torch::kInt64);
    auto ya = y.contiguous();
    for (int64_t i = 0; i < nl; ++i) {
        auto same = torch::nonzero(ya == ya[i]).flatten();
        same = same.index_select(0, torch::nonzero(same != i).flatten());
        out[i] =
            same.numel() == 0 ? i : same[torch::randint(0, same.numel(), {1}, gen).item<int64_t>()].item<int64_t>();
    }
    if (nl < n) {
        namespace F = torch::nn::functional;
        auto z = F::normalize(features, F::NormalizeFuncOptions().dim(1));
        auto sim = z.slice(0, nl).mm(z.t());
        sim.slice(1, nl).diagonal().fill_(-std::numeric_limits<float>::infinity()); // not itself
        out.slice(0, nl).copy_(sim.argmax(1));
    }
    return out.to(features.device());
}

// Pairwise objective: binary cross-entropy that each example and its partner (in the other view)
// get the same class, -mean log <p_i, p'_partner(i)> (log clamped at -100, as torch's BCELoss).
inline torch::Tensor pair_loss(const torch::Tensor& prob, const torch::Tensor& prob_other_view,
                               const torch::Tensor& partner) {
    auto sim = (prob * prob_other_view.index_select(0, partner)).sum(1);
    return -sim.log().clamp_min(-100.0).mean();
}

// Entropy of the batch's mean prediction (probabilities clamped at 1e-8 as the official code);
// ORCA subtracts it, which keeps the unlabelled examples from all going to the seen classes.
inline torch::Tensor mean_prediction_entropy(const torch::Tensor& prob) {
    auto p = prob.mean(0).clamp_min(1e-8);
    return -(p * p.log()).sum();
}

} // namespace orca
