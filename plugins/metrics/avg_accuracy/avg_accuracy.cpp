// Metric plugin `avg_accuracy`: mean test accuracy over all tasks after the last one.
#include "iclr/sdk.hpp"

namespace {

class AvgAccuracy : public iclr::Metric {
  public:
    AvgAccuracy(const iclr::ParamSet& p, iclr::RunContext&) : a_(p.get_string("eval") == "task") {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) a_.record(e, learner, b, &ctx);
        if (e.kind == iclr::EventKind::End && a_.has_last_row())
            ctx.log("avg_accuracy", iclr::continual::average_accuracy(a_.matrix()), e.step);
    }

  private:
    iclr::AccuracyMatrix a_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, AvgAccuracy, "avg_accuracy", "0.1.0", "",
            "average accuracy = mean_i a[T][i] after the last task",
            ICLR_STRING("eval", "task", "task|class",
                        "task: logits masked to each task's classes; class: all classes compete"))
