// Metric plugin `knn_accuracy`: the accuracy matrix, forgetting and average accuracy measured with
// a weighted kNN classifier on the backbone's features (for methods without a classifier head).
#include "iclr/sdk.hpp"

namespace {

class KnnAccuracy : public iclr::Metric {
  public:
    struct Params {
        iclr::Int k{"k", 200, 1, 100000, "neighbours that vote (Wu et al. 2018; LUMP's monitor: 200)"};
        iclr::Float tau{"tau", 0.1, 1e-6, 100.0, "temperature of the vote weights exp(similarity / tau)"};
    };

    KnnAccuracy(const Params& p, iclr::RunContext&) : k_(p.k), tau_(p.tau) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) {
            // Row t: every task's test split classified by kNN against that task's own training set
            // (task-incremental: only the task's classes can be predicted, as in LUMP's monitor), with
            // the learner's features for task i where they depend on it (PNN's columns).
            const auto& row = a_.record_row(e.task, b.tasks.size(), [&](size_t i) {
                return iclr::knn_accuracy(learner, b.tasks[i].train, b.tasks[i].test, b.num_classes, k_, tau_,
                                          int64_t(i));
            });
            for (size_t i = 0; i < row.size(); ++i)
                ctx.log("acc", row[i], e.task, int64_t(i)); // step = t, task = i: the accuracy_matrix view
        }
        if (e.kind != iclr::EventKind::End || a_.matrix().empty()) return;
        const auto& m = a_.matrix();
        // A jointly trained model (multitask) reports only the last row: its average is defined.
        if (a_.has_last_row()) ctx.log("knn_avg_accuracy", iclr::continual::average_accuracy(m), e.step);
        if (!a_.complete()) {
            ctx.info("knn_accuracy: not every task reported a row (joint training?); forgetting not logged");
            return;
        }
        ctx.log("knn_forgetting", iclr::continual::forgetting(m), e.step);
        ctx.log("knn_bwt", iclr::continual::backward_transfer(m), e.step);
    }

  private:
    int64_t k_;
    double tau_;
    iclr::AccuracyMatrix a_{true}; // filled by record_row with kNN scores
};

} // namespace

ICLR_PLUGIN(iclr::Metric, KnnAccuracy, "knn_accuracy", "0.2.0",
            "Wu, Xiong, Yu, Lin. Unsupervised Feature Learning via Non-Parametric Instance Discrimination. CVPR 2018 "
            "(the weighted kNN monitor); Madaan et al. ICLR 2022 (its use for continual learning).",
            "after each task t, kNN accuracy on every task i (key acc, as accuracy_matrix; bank = task i's training "
            "set); at the end knn_avg_accuracy, knn_forgetting, knn_bwt")
