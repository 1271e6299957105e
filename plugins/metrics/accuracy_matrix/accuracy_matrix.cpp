// Metric plugin `accuracy_matrix`: a[t][i], the test accuracy on task i after training task t.
#include "iclr/sdk.hpp"

namespace {

class AccuracyMatrixMetric : public iclr::Metric {
  public:
    AccuracyMatrixMetric(const iclr::ParamSet& p, iclr::RunContext&) : a_(p.get_string("eval") == "task") {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::TaskEnd) return;
        const auto& row = a_.record(e, learner, b, &ctx);
        for (size_t i = 0; i < row.size(); ++i)
            ctx.log("acc", row[i], e.task, int64_t(i)); // step = t, task = i
    }

  private:
    iclr::AccuracyMatrix a_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, AccuracyMatrixMetric, "accuracy_matrix", "0.2.0", "",
            "after each task t, test accuracy on every task i: key acc, step = t, task = i (view accuracy_matrix)",
            ICLR_STRING("eval", "task", "task|class",
                        "task: logits masked to task i's classes; class: all classes compete"))
