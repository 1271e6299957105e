// Evaluation helpers shared by metric plugins: batched, no-grad accuracy of a learner.
#pragma once

#include <torch/torch.h>

#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"

namespace iclr {

// Accuracy of learner.logits(x, task) on a split, in eval mode, restoring the training mode after.
inline double accuracy(Learner& learner, const Split& split, int64_t task, int64_t batch = 1024) {
    if (split.size() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    bool was_training = learner.backbone().is_training();
    learner.backbone().eval();
    int64_t correct = 0;
    for (int64_t i = 0; i < split.size(); i += batch) {
        int64_t j = std::min(split.size(), i + batch);
        auto pred = learner.logits(split.x.slice(0, i, j), task).argmax(1);
        correct += pred.eq(split.y.slice(0, i, j)).sum().item<int64_t>();
    }
    learner.backbone().train(was_training);
    return double(correct) / double(split.size());
}

} // namespace iclr
