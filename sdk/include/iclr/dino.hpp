// DINO's self-distillation pieces and EsViT's region-level matching: the projection head with a
// weight-normalised last layer, centred and sharpened teacher targets, the teacher-student
// cross-entropy, the teacher's EMA with its cosine momentum schedule. Included by name.
#pragma once

#include <cmath>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// DINO's head: a three-layer MLP (GELU) to a bottleneck, L2-normalised, then a linear layer without
// bias whose rows are normalised to length 1 (weight norm with its gain frozen at 1: DINO's
// norm_last_layer = true). Acts on the last dimension, so it takes [B, D] features or [B, L, D] tokens.
struct DinoHeadImpl : torch::nn::Module {
    DinoHeadImpl(int64_t in, int64_t hidden, int64_t bottleneck, int64_t out)
        : mlp(register_module("mlp", torch::nn::Sequential(torch::nn::Linear(in, hidden), torch::nn::GELU(),
                                                           torch::nn::Linear(hidden, hidden), torch::nn::GELU(),
                                                           torch::nn::Linear(hidden, bottleneck)))),
          prototypes(register_parameter("prototypes", torch::randn({out, bottleneck}) * 0.02)) {}
    torch::Tensor forward(const torch::Tensor& x) {
        namespace F = torch::nn::functional;
        auto z = F::normalize(mlp->forward(x), F::NormalizeFuncOptions().dim(-1));
        return torch::matmul(z, F::normalize(prototypes, F::NormalizeFuncOptions().dim(1)).t());
    }
    torch::nn::Sequential mlp;
    torch::Tensor prototypes; // [out, bottleneck]
};
TORCH_MODULE(DinoHead);

// The teacher's targets: softmax((t - center) / tau_t) over the last dimension.
inline torch::Tensor dino_targets(const torch::Tensor& teacher_out, const torch::Tensor& center, double tau_t) {
    return torch::softmax((teacher_out - center) / tau_t, -1);
}

// -sum_k p_k log softmax(s / tau_s)_k, averaged over every leading dimension (images, or images x
// tokens).
inline torch::Tensor dino_cross_entropy(const torch::Tensor& targets, const torch::Tensor& student_out, double tau_s) {
    return -(targets * torch::log_softmax(student_out / tau_s, -1)).sum(-1).mean();
}

// EsViT's region matching: for each of the student's tokens [B, N, D], the target of the teacher
// token [B, M, D] most similar to it (cosine of the backbone's token features, not of the head's
// outputs); teacher_targets [B, M, K] -> [B, N, K].
inline torch::Tensor matched_region_targets(const torch::Tensor& student_tokens, const torch::Tensor& teacher_tokens,
                                            const torch::Tensor& teacher_targets) {
    namespace F = torch::nn::functional;
    auto sim = torch::matmul(F::normalize(student_tokens, F::NormalizeFuncOptions().dim(-1)),
                             F::normalize(teacher_tokens, F::NormalizeFuncOptions().dim(-1)).transpose(1, 2));
    auto best = std::get<1>(sim.max(2)); // [B, N]
    return torch::gather(teacher_targets, 1, best.unsqueeze(2).expand({-1, -1, teacher_targets.size(2)}));
}

// center <- m center + (1 - m) mean of the teacher's raw outputs over every leading dimension
// (DINO starts the center at zeros [1, K]).
inline void update_center(torch::Tensor& center, const torch::Tensor& teacher_out, double m) {
    torch::NoGradGuard no_grad;
    center = center * m + teacher_out.reshape({-1, teacher_out.size(-1)}).mean(0, true) * (1 - m);
}

// teacher <- m teacher + (1 - m) student, tensor by tensor (same order, same shapes).
inline void ema_update(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student, double m) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < teacher.size(); ++i)
        teacher[i].mul_(m).add_(student[i].detach(), 1 - m);
}

// DINO's teacher momentum: base at step 0, rising on a half cosine to 1 at step total.
inline double cosine_momentum(double base, int64_t step, int64_t total) {
    if (total <= 0) return base;
    return 1 - (1 - base) * (std::cos(M_PI * double(step) / double(total)) + 1) / 2;
}

} // namespace iclr
