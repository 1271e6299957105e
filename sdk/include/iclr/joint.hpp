// What methods that train on every task at once share: the tasks' splits joined into one, the
// features-only learner they hand to metrics when they trained no classifier head, and the
// report of one jointly trained representation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"
#include "iclr/method.hpp"
#include "iclr/params.hpp"

namespace iclr {

// Every task's training (or, with &Task::test, test) split as one, in task order. Read-only: with
// one task (a pretraining set) it is that task's own tensors, not a copy (a copy was 63 MB of
// private memory per worker for a 20,000-image set that the data cache maps shared).
inline Split joined(const Benchmark& b, Split Task::*which = &Task::train) {
    if (b.tasks.size() == 1) return {(b.tasks[0].*which).x, (b.tasks[0].*which).y};
    std::vector<torch::Tensor> xs, ys;
    for (const auto& t : b.tasks) {
        xs.push_back((t.*which).x);
        ys.push_back((t.*which).y);
    }
    return {torch::cat(xs), torch::cat(ys)};
}

// The backbone's features only (kNN, linear probe, collapse); logits() refused in one line.
class Encoder : public Learner {
  public:
    // method: the plugin's name, for the refusal.
    Encoder(std::shared_ptr<Backbone> b, std::string method) : b_(std::move(b)), method_(std::move(method)) {}
    Backbone& backbone() override { return *b_; }
    torch::Tensor logits(const torch::Tensor&, int64_t) override {
        throw PluginError(method_ + " trains no classifier head: evaluate it with knn_accuracy or linear_probe");
    }
    std::vector<torch::Tensor> trainable() override { return b_->parameters(); }

  private:
    std::shared_ptr<Backbone> b_;
    std::string method_;
};

// One jointly trained representation is the last row of the accuracy matrix: TaskEnd of the last
// task, then End.
inline void report_joint(Session& s, Learner& learner, int64_t step) {
    int64_t last = int64_t(s.benchmark().tasks.size()) - 1;
    s.notify({EventKind::TaskEnd, last, step}, learner);
    s.notify({EventKind::End, last, step}, learner);
}

} // namespace iclr
