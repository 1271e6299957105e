// Metric plugin `linear_probe`: the accuracy matrix, forgetting and average accuracy of a linear
// classifier fitted on frozen features, task by task (the other way SSL representations are judged).
#include "iclr/sdk.hpp"

namespace {

class LinearProbe : public iclr::Metric {
  public:
    struct Params {
        iclr::Int steps{"steps", 300, 1, 100000, "full-batch Adam steps fitting the probe"};
        iclr::Float lr{"lr", 0.05, 1e-6, 10.0, "Adam learning rate of the probe"};
        iclr::String mask{
            "mask", "task", "task|none",
            "task: the probe's logits masked to the task's classes (task-incremental); none: all classes"};
    };

    LinearProbe(const Params& p, iclr::RunContext&) : p_(p) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) {
            // Row t: a fresh probe per task i, fitted on task i's training set and scored on its test set.
            const auto& row = a_.record_row(e.task, b.tasks.size(), [&](size_t i) {
                const auto& task = b.tasks[i];
                std::vector<int64_t> classes = p_.mask() == "task" ? task.classes : std::vector<int64_t>{};
                return iclr::linear_probe_accuracy(learner, task.train, task.test, b.num_classes, classes, p_.steps,
                                                   p_.lr, int64_t(i));
            });
            for (size_t i = 0; i < row.size(); ++i)
                ctx.log("probe_acc", row[i], e.task, int64_t(i));
        }
        if (e.kind != iclr::EventKind::End || a_.matrix().empty()) return;
        const auto& m = a_.matrix();
        if (a_.has_last_row()) ctx.log("probe_avg_accuracy", iclr::continual::average_accuracy(m), e.step);
        if (!a_.complete()) return; // joint training: no forgetting
        ctx.log("probe_forgetting", iclr::continual::forgetting(m), e.step);
        ctx.log("probe_bwt", iclr::continual::backward_transfer(m), e.step);
    }

  private:
    Params p_;
    iclr::AccuracyMatrix a_{true};
};

} // namespace

ICLR_PLUGIN(iclr::Metric, LinearProbe, "linear_probe", "0.1.0",
            "Linear evaluation of frozen representations (e.g. Chen et al. SimCLR, ICML 2020; Madaan et al. ICLR "
            "2022 report kNN instead).",
            "after each task t, a linear probe per task i on frozen features (key probe_acc, step = t, task = i); at "
            "the end probe_avg_accuracy, probe_forgetting, probe_bwt")
