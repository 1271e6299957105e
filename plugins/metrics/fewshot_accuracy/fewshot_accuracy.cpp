// Metric plugin `fewshot_accuracy`: mean query accuracy over meta-test episodes, each adapted to by
// the learner (iclr::EpisodeLearner), with its 95% interval: mean ± 1.96·sd/√N.
#include "../common/episode_accuracy.hpp"

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
        auto& el = iclr_metrics::episode_learner("fewshot_accuracy", learner, b);
        auto acc = iclr_metrics::episode_accuracy(el, *b.episodes, split_, seed_, episodes_, ctx);
        ctx.log("fewshot_accuracy", acc.mean, e.step);
        ctx.log("fewshot_ci95", acc.ci95, e.step);
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
