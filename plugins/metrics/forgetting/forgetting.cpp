// Metric plugin `forgetting`: mean over earlier tasks of (best accuracy before the last task -
// accuracy after it), from the accuracy matrix; logged at the end.
#include "iclr/sdk.hpp"

namespace {

class Forgetting : public iclr::Metric {
  public:
    Forgetting(const iclr::ParamSet& p, iclr::RunContext&) : a_(p.get_string("eval") == "task") {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) a_.record(e, learner, b, &ctx);
        if (e.kind != iclr::EventKind::End) return;
        if (!a_.complete()) {
            ctx.info("forgetting: not every task reported an accuracy row (joint training?); not logged");
            return;
        }
        const auto& m = a_.matrix();
        ctx.log("forgetting", iclr::continual::forgetting(m), e.step);
        // Per earlier task i: max_{t<T} a[t][i] - a[T][i].
        for (size_t i = 0; i + 1 < m.size(); ++i) {
            double best = m[0][i];
            for (size_t t = 0; t + 1 < m.size(); ++t)
                best = std::max(best, m[t][i]);
            ctx.log("forgetting_task", best - m.back()[i], e.step, int64_t(i));
        }
    }

  private:
    iclr::AccuracyMatrix a_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, Forgetting, "forgetting", "0.2.0",
            "Chaudhry et al. Riemannian Walk for Incremental Learning. ECCV 2018 (the forgetting measure).",
            "forgetting = mean_{i<T} (max_{t<T} a[t][i] - a[T][i]); also forgetting_task per task i",
            ICLR_STRING("eval", "task", "task|class",
                        "task: logits masked to each task's classes; class: all classes compete"))
