// Metric plugin `meta_gap`: the meta-generalisation gap, accuracy on episodes of the meta-training
// tasks (the very images trained on) minus accuracy on episodes of unseen tasks, both adapted to
// by the learner on the same fixed episodes for every trial.
#include "../common/episode_accuracy.hpp"

namespace {

class MetaGap : public iclr::Metric {
  public:
    struct Params {
        iclr::Int episodes{"episodes", 600, 1, 100000, "episodes of each split (the usual protocol: 600)"};
        iclr::String train_split{"train_split", "train", "train|val|test", "the tasks meta-trained on"};
        iclr::String test_split{"test_split", "test", "train|val|test", "the unseen tasks"};
        iclr::Int episode_seed{"episode_seed", 0, 0, 1000000,
                               "seed of the episodes, not the trial's: every trial meets the same ones"};
    };
    MetaGap(const Params& p, iclr::RunContext&)
        : episodes_(p.episodes), train_(p.train_split()), test_(p.test_split()),
          seed_(uint64_t(int64_t(p.episode_seed))) {
        if (train_ == test_) throw iclr::PluginError("meta_gap: train_split and test_split are both '" + train_ + "'");
    }

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::End) return;
        auto& el = iclr_metrics::episode_learner("meta_gap", learner, b);
        auto train = iclr_metrics::episode_accuracy(el, *b.episodes, train_, seed_, episodes_, ctx);
        auto test = iclr_metrics::episode_accuracy(el, *b.episodes, test_, seed_, episodes_, ctx);
        ctx.log("meta_train_accuracy", train.mean, e.step);
        ctx.log("meta_test_accuracy", test.mean, e.step);
        ctx.log("meta_gap", train.mean - test.mean, e.step);
    }

  private:
    int64_t episodes_;
    std::string train_, test_;
    uint64_t seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, MetaGap, "meta_gap", "0.1.0",
            "Guan, Lu. Task Relatedness-Based Generalization Bounds for Meta Learning. ICLR 2022 (the quantity "
            "their bounds bound).",
            "meta-generalisation gap: query accuracy on episodes of the meta-training tasks (meta_train_accuracy) "
            "minus that on episodes of unseen tasks (meta_test_accuracy), as meta_gap")
