// Metric plugin `mig`: how disentangled the learned features are with respect to the data set's
// known generative factors: the mutual information gap per factor and its mean, at the end.
#include "iclr/mig.hpp"
#include "iclr/sdk.hpp"

namespace {

class Mig : public iclr::Metric {
  public:
    struct Params {
        iclr::Int bins{"bins", 20, 2, 1000, "equal-width bins per feature dimension (disentanglement_lib: 20)"};
        iclr::Int task{"task", 0, 0, 1000, "whose test images are embedded and scored"};
    };

    Mig(const Params& p, iclr::RunContext&) : p_(p) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::End) return;
        if (p_.task >= int64_t(b.tasks.size()))
            throw iclr::PluginError("mig: task " + std::to_string(p_.task) + " but the data set has " +
                                    std::to_string(b.tasks.size()) + " task(s)");
        const auto& test = b.tasks[size_t(p_.task)].test;
        if (test.factors.empty())
            throw iclr::PluginError("mig: data set '" + b.name +
                                    "' has no known generative factors (use one that renders its images, e.g. shapes)");
        auto binned = iclr::discretize(iclr::eval_features(learner, test.x, p_.task), p_.bins);
        double gap = 0, best = 0;
        for (const auto& [name, levels] : test.factors) {
            auto s = iclr::factor_score(binned, levels);
            ctx.log("mig_" + name, s.gap, e.step);
            ctx.log("mi_" + name, s.best, e.step);
            gap += s.gap;
            best += s.best;
        }
        ctx.log("mig", gap / double(test.factors.size()), e.step);
        ctx.log("mi_best", best / double(test.factors.size()), e.step);
    }

  private:
    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, Mig, "mig", "0.1.0",
            "Chen, Li, Grosse, Duvenaud. Isolating Sources of Disentanglement in Variational Autoencoders. NeurIPS "
            "2018 (the mutual information gap).",
            "at the end, over one task's test features and the data set's factors: mig_<factor> = (I_1 - I_2) / H, "
            "mi_<factor> = I_1 / H, and their means mig, mi_best")
