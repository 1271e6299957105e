// Metric plugin `fewshot_accuracy`: mean query accuracy over meta-test episodes, each adapted to by
// the learner (iclr::EpisodeLearner), with its 95% interval: mean ± 1.96·sd/√N.
#include <cmath>

#include "iclr/fewshot.hpp"
#include "iclr/sdk.hpp"

namespace {

class FewshotAccuracy : public iclr::Metric {
  public:
    struct Params {
        iclr::Int episodes{"episodes", 600, 1, 100000, "meta-test episodes (the usual protocol: 600)"};
        iclr::String split{"split", "test", "train|val|test", "which classes the episodes come from"};
        iclr::Int episode_seed{"episode_seed", 0, 0, 1000000,
                               "seed of the episodes, not the trial's: every method of a sweep meets the same ones"};
    };
    FewshotAccuracy(const Params& p, iclr::RunContext&)
        : episodes_(p.episodes), split_(p.split()), seed_(uint64_t(int64_t(p.episode_seed))) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::End) return;
        if (!b.episodes) throw iclr::PluginError("fewshot_accuracy: data set '" + b.name + "' makes no episodes");
        auto* el = dynamic_cast<iclr::EpisodeLearner*>(&learner);
        if (!el) throw iclr::PluginError("fewshot_accuracy: the method's learner cannot adapt to episodes");
        double sum = 0, sum2 = 0;
        for (int64_t i = 0; i < episodes_; ++i) {
            ctx.check_cancelled();
            iclr::Episode ep = iclr::episode_at(*b.episodes, split_, seed_, uint64_t(i));
            auto logits = el->episode_logits(ep);
            double acc = logits.argmax(1).eq(ep.query.y).to(torch::kDouble).mean().item<double>();
            sum += acc;
            sum2 += acc * acc;
        }
        double n = double(episodes_), mean = sum / n;
        double sd = episodes_ > 1 ? std::sqrt(std::max(0.0, (sum2 - n * mean * mean) / (n - 1))) : 0.0;
        ctx.log("fewshot_accuracy", mean, e.step);
        ctx.log("fewshot_ci95", 1.96 * sd / std::sqrt(n), e.step);
    }

  private:
    int64_t episodes_;
    std::string split_;
    uint64_t seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, FewshotAccuracy, "fewshot_accuracy", "0.1.0", "",
            "few-shot accuracy: mean query accuracy over N meta-test episodes (fewshot_accuracy) and the half-width "
            "of its 95% interval (fewshot_ci95)")
