// Evaluating frozen features: weighted k-nearest-neighbour accuracy (the monitor InstDisc, SimSiam
// and LUMP report as "kNN accuracy") and linear-probe accuracy.
#pragma once

#include <limits>
#include <vector>

#include <torch/torch.h>

#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"

namespace iclr {

// Features are L2-normalised; each query's k most cosine-similar bank items vote for their label
// with weight exp(similarity / tau); the prediction is the label with the largest total (k = 200,
// tau = 0.1 in Wu et al. 2018 and LUMP's official monitor). query [Q, D], bank [B, D], labels [B]
// in 0..num_classes-1. Returns [Q] predicted labels.
inline torch::Tensor knn_predict(const torch::Tensor& query, const torch::Tensor& bank, const torch::Tensor& labels,
                                 int64_t num_classes, int64_t k = 200, double tau = 0.1) {
    namespace F = torch::nn::functional;
    auto q = F::normalize(query, F::NormalizeFuncOptions().dim(1));
    auto b = F::normalize(bank, F::NormalizeFuncOptions().dim(1));
    auto sim = torch::matmul(q, b.t()); // [Q, B]
    auto [top_sim, top_idx] = sim.topk(std::min<int64_t>(k, bank.size(0)), 1);
    auto top_labels = labels.index_select(0, top_idx.flatten()).view_as(top_idx); // [Q, k]
    auto weights = (top_sim / tau).exp();                                         // [Q, k]
    auto scores = torch::zeros({query.size(0), num_classes}, weights.options());
    scores.scatter_add_(1, top_labels, weights);
    return scores.argmax(1);
}

// The learner's features of x for task `task` (its TaskFeatures when it has them: PNN's column
// for that task), in batches, in eval mode, without gradients.
inline torch::Tensor eval_features(Learner& learner, const torch::Tensor& x, int64_t task, int64_t batch = 1024) {
    torch::NoGradGuard no_grad;
    bool was_training = learner.backbone().is_training();
    learner.backbone().eval();
    auto* by_task = dynamic_cast<TaskFeatures*>(&learner);
    std::vector<torch::Tensor> out;
    for (int64_t i = 0; i < x.size(0); i += batch) {
        auto part = x.slice(0, i, std::min(x.size(0), i + batch));
        out.push_back(by_task ? by_task->task_features(part, task) : learner.features(part));
    }
    learner.backbone().train(was_training);
    return torch::cat(out);
}

// kNN accuracy of the learner's features for task `task`: the bank is `bank`'s examples (a task's
// own training set: task-incremental, as LUMP's monitor), the queries `test`'s.
inline double knn_accuracy(Learner& learner, const Split& bank, const Split& test, int64_t num_classes, int64_t k = 200,
                           double tau = 0.1, int64_t task = -1) {
    if (test.size() == 0 || bank.size() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    auto bank_f = eval_features(learner, bank.x, task);
    auto test_f = eval_features(learner, test.x, task);
    int64_t correct = 0, batch = 1024;
    for (int64_t i = 0; i < test.size(); i += batch) {
        int64_t j = std::min(test.size(), i + batch);
        auto pred = knn_predict(test_f.slice(0, i, j), bank_f, bank.y, num_classes, k, tau);
        correct += pred.eq(test.y.slice(0, i, j)).sum().item<int64_t>();
    }
    return double(correct) / double(test.size());
}

// Linear-probe accuracy for task `task`: a linear classifier over num_classes on the frozen,
// standardised features of `train` (per-dimension mean and sd of train), zero-initialised and fitted
// by full-batch Adam (so no draw is involved), scored on `test`. When `classes` is not empty the
// logits are masked to them (task-incremental).
inline double linear_probe_accuracy(Learner& learner, const Split& train, const Split& test, int64_t num_classes,
                                    const std::vector<int64_t>& classes, int64_t steps = 300, double lr = 0.05,
                                    int64_t task = -1) {
    if (test.size() == 0 || train.size() == 0) return 0.0;
    auto ftr = eval_features(learner, train.x, task), fte = eval_features(learner, test.x, task);
    auto mean = ftr.mean(0, true), sd = ftr.std(0, false, true) + 1e-6;
    ftr = (ftr - mean) / sd;
    fte = (fte - mean) / sd;
    auto mask = torch::zeros({num_classes}, ftr.options()); // on the features' device
    if (!classes.empty()) {
        mask.fill_(-std::numeric_limits<float>::infinity());
        for (int64_t c : classes)
            mask[c] = 0.0f;
    }
    auto w = torch::zeros({ftr.size(1), num_classes}, ftr.options().requires_grad(true));
    auto b = torch::zeros({num_classes}, ftr.options().requires_grad(true));
    torch::optim::Adam opt({w, b}, torch::optim::AdamOptions(lr));
    for (int64_t s = 0; s < steps; ++s) {
        opt.zero_grad();
        torch::nn::functional::cross_entropy(torch::matmul(ftr, w) + b + mask, train.y).backward();
        opt.step();
    }
    torch::NoGradGuard no_grad;
    auto pred = (torch::matmul(fte, w) + b + mask).argmax(1);
    return pred.eq(test.y).to(torch::kDouble).mean().item<double>();
}

} // namespace iclr
