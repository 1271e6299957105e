// Metric plugin `accuracy`: the accuracy matrix a[t][i] after every task, and the final average.
#include "iclr/sdk.hpp"

namespace {

class Accuracy : public iclr::Metric {
public:
    Accuracy(const iclr::ParamSet& p, iclr::RunContext&) : task_incremental_(p.get_string("eval") == "task") {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b, iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) {
            // a[t][i]: step = t (the task just trained), task = i.
            last_.assign(b.tasks.size(), 0.0);
            for (size_t i = 0; i < b.tasks.size(); ++i) {
                last_[i] = iclr::accuracy(learner, b.tasks[i].test, task_incremental_ ? int64_t(i) : -1);
                ctx.log("acc", last_[i], e.task, int64_t(i));
            }
        } else if (e.kind == iclr::EventKind::End && !last_.empty()) {
            double sum = 0;
            for (double a : last_) sum += a;
            ctx.log("final_acc", sum / double(last_.size()), e.step);
        }
    }

private:
    bool task_incremental_;
    std::vector<double> last_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, Accuracy, "accuracy", "0.1.0", "",
            "test accuracy on every task after each task (key acc, step = task trained, task = task tested) and the final mean (final_acc)",
            ICLR_STRING("eval", "task", "task|class", "task: logits masked to each task's classes; class: all classes compete"))
