// AccuracyMatrix: fills a[t][i] at TaskEnd events; shared by the continual-learning metrics.
#pragma once

#include <string>

#include "iclr/context.hpp"
#include "iclr/continual_metrics.hpp"
#include "iclr/dataset.hpp"
#include "iclr/eval.hpp"
#include "iclr/learner.hpp"

namespace iclr {

class AccuracyMatrix {
  public:
    explicit AccuracyMatrix(bool task_incremental) : task_incremental_(task_incremental) {}

    // At TaskEnd of task t: evaluates every task's test split; returns row t. With the metric's
    // ctx, each accuracy is computed once per event for all the metrics that record it.
    const std::vector<double>& record(const Event& e, Learner& learner, const Benchmark& b, RunContext* ctx = nullptr) {
        return record_row(e.task, b.tasks.size(), [&](size_t i) {
            auto compute = [&] { return accuracy(learner, b.tasks[i].test, task_incremental_ ? int64_t(i) : -1); };
            if (!ctx) return compute();
            return ctx->shared_value(
                std::string("accuracy/") + (task_incremental_ ? "task/" : "class/") + std::to_string(i), compute);
        });
    }
    // Row t of an n-task stream from any per-task score (kNN accuracy, a probe): score(i) for each i.
    template <class Score> const std::vector<double>& record_row(int64_t t, size_t n, Score score) {
        if (a_.empty()) a_.assign(n, std::vector<double>(n, 0.0));
        if (recorded_.empty()) recorded_.assign(n, false);
        auto& row = a_.at(size_t(t));
        for (size_t i = 0; i < n; ++i)
            row[i] = score(i);
        recorded_[size_t(t)] = true;
        return row;
    }
    const continual::Matrix& matrix() const { return a_; }
    // Every row recorded: a sequential method reported each task. A jointly trained model reports
    // only the last row, and then forgetting and BWT are not defined (average accuracy is).
    bool complete() const {
        if (recorded_.empty()) return false;
        for (bool r : recorded_)
            if (!r) return false;
        return true;
    }
    bool has_last_row() const { return !recorded_.empty() && recorded_.back(); }

  private:
    bool task_incremental_;
    continual::Matrix a_;
    std::vector<bool> recorded_;
};

} // namespace iclr
