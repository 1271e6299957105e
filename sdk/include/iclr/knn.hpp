// Weighted k-nearest-neighbour classification of features: the monitor SSL papers (InstDisc,
// SimSiam, LUMP) report as "kNN accuracy".
#pragma once

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

// kNN accuracy of the learner's features: the bank is `bank`'s examples (a task's own training
// set: task-incremental, as LUMP's monitor), the queries `test`'s. Eval mode, no gradients.
inline double knn_accuracy(Learner& learner, const Split& bank, const Split& test, int64_t num_classes, int64_t k = 200,
                           double tau = 0.1, int64_t batch = 1024) {
    if (test.size() == 0 || bank.size() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    bool was_training = learner.backbone().is_training();
    learner.backbone().eval();
    auto features = [&](const torch::Tensor& x) {
        std::vector<torch::Tensor> out;
        for (int64_t i = 0; i < x.size(0); i += batch)
            out.push_back(learner.features(x.slice(0, i, std::min(x.size(0), i + batch))));
        return torch::cat(out);
    };
    auto bank_f = features(bank.x);
    int64_t correct = 0;
    for (int64_t i = 0; i < test.size(); i += batch) {
        int64_t j = std::min(test.size(), i + batch);
        auto pred = knn_predict(features(test.x.slice(0, i, j)), bank_f, bank.y, num_classes, k, tau);
        correct += pred.eq(test.y.slice(0, i, j)).sum().item<int64_t>();
    }
    learner.backbone().train(was_training);
    return double(correct) / double(test.size());
}

} // namespace iclr
