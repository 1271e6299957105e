// Metric plugin `bwt`: backward transfer, mean over earlier tasks of (final - just-learned accuracy).
#include "iclr/sdk.hpp"

namespace {

class Bwt : public iclr::Metric {
  public:
    Bwt(const iclr::ParamSet& p, iclr::RunContext&) : a_(p.get_string("eval") == "task") {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) a_.record(e, learner, b, &ctx);
        if (e.kind != iclr::EventKind::End) return;
        if (!a_.complete()) {
            ctx.info("bwt: not every task reported an accuracy row (joint training?); not logged");
            return;
        }
        ctx.log("bwt", iclr::continual::backward_transfer(a_.matrix()), e.step);
    }

  private:
    iclr::AccuracyMatrix a_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, Bwt, "bwt", "0.1.0",
            "Lopez-Paz, Ranzato. Gradient Episodic Memory for Continual Learning. NeurIPS 2017 (BWT).",
            "BWT = mean_{i<T} (a[T][i] - a[i][i]); negative means forgetting",
            ICLR_STRING("eval", "task", "task|class",
                        "task: logits masked to each task's classes; class: all classes compete"))
