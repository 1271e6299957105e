// Metric plugin `feature_distortion`: how far training moved the backbone's features, on
// in-distribution test inputs and on each shifted test set: mean ‖f_end(x) − f_start(x)‖ (Kumar et
// al., ICLR 2022: fine-tuning changes ID features more than OOD ones, and distorts them).
#include "iclr/sdk.hpp"

namespace {

class FeatureDistortion : public iclr::Metric {
  public:
    struct Params {
        iclr::Int examples{"examples", 500, 1, 100000, "inputs per set (the first of each test split)"};
    };
    FeatureDistortion(const Params& p, iclr::RunContext&) : examples_(p.examples) {}

    // Step 0 (a method's "before training" event): the features at the start. End: the distances.
    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::Step && e.step == 0) {
            for (const auto& [name, x] : inputs(b))
                start_[name] = features(learner, x);
            return;
        }
        if (e.kind != iclr::EventKind::End) return;
        if (start_.empty())
            throw iclr::PluginError("feature_distortion: the method sent no Step 0 event before training "
                                    "(finetune, linear_probe and lp_ft do)");
        double ood_sum = 0;
        for (const auto& [name, x] : inputs(b)) {
            auto d = (features(learner, x) - start_.at(name)).norm(2, {1}).mean().item<double>();
            ctx.log("feature_distortion_" + name, d, e.step);
            if (name != "id") ood_sum += d;
        }
        if (!b.shifted_tests.empty())
            ctx.log("feature_distortion_ood", ood_sum / double(b.shifted_tests.size()), e.step);
    }

  private:
    // "id": the first `examples` of every task's test split joined; then each shifted test set.
    std::map<std::string, torch::Tensor> inputs(const iclr::Benchmark& b) const {
        std::vector<torch::Tensor> xs;
        for (const auto& t : b.tasks)
            xs.push_back(t.test.x);
        std::map<std::string, torch::Tensor> out{{"id", torch::cat(xs).slice(0, 0, examples_)}};
        for (const auto& [name, split] : b.shifted_tests)
            out[name] = split.x.slice(0, 0, examples_);
        return out;
    }
    static torch::Tensor features(iclr::Learner& learner, const torch::Tensor& x) {
        torch::NoGradGuard no_grad;
        bool was_training = learner.backbone().is_training();
        learner.backbone().eval();
        auto f = learner.features(x).detach().clone();
        learner.backbone().train(was_training);
        return f;
    }

    int64_t examples_;
    std::map<std::string, torch::Tensor> start_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, FeatureDistortion, "feature_distortion", "0.1.0",
            "Kumar et al. Fine-Tuning can Distort Pretrained Features and Underperform Out-of-Distribution. ICLR 2022.",
            "mean distance between the backbone's features at the start (Step 0) and the end of training, on ID "
            "test inputs and on each shifted test set")
