// Metric plugin `ntk_condition`: As-ViT's first training-free proxy, the condition number of the
// empirical NTK on a fixed batch, measured at initialisation (the method's Step 0 event).
#include "../common/init_proxies.hpp"

namespace {

class NtkCondition : public iclr::proxies::AtInitialisation {
  public:
    NtkCondition(const iclr::ParamSet& p, iclr::RunContext&)
        : batch_(p.get_int("batch")), seed_(uint64_t(p.get_int("batch_seed"))) {}

  private:
    const char* key() const override { return "ntk_condition"; }
    double measure(iclr::Backbone& net, const iclr::Benchmark& b) override {
        return iclr::proxies::ntk_condition(net, fixed_batch(b));
    }
    // The same images in every trial of a sweep (batch_seed, not the trial's seed): architectures
    // are compared on one batch, as As-ViT's search keeps its input batch fixed.
    torch::Tensor fixed_batch(const iclr::Benchmark& b) const {
        if (b.tasks.empty() || b.tasks[0].train.size() == 0)
            throw iclr::PluginError("ntk_condition: the data set's first task has no training examples");
        const auto& train = b.tasks[0].train;
        auto gen = iclr::make_generator(seed_, 0x27c);
        auto idx = torch::randperm(train.size(), gen).slice(0, 0, std::min(batch_, train.size()));
        return train.x.index_select(0, idx.to(train.x.device())); // drawn on the CPU: the same batch anywhere
    }

    int64_t batch_;
    uint64_t seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, NtkCondition, "ntk_condition", "0.1.0",
            "Chen, Huang, Du, Song, Wang, Zhou. Auto-scaling Vision Transformers without Training. ICLR 2022 "
            "(after Chen, Gong, Wang, TE-NAS, ICLR 2021).",
            "at initialisation (Step 0): kappa = lambda_max / lambda_min of the empirical NTK G G^T on a fixed "
            "batch, G's rows the gradients of each example's summed features w.r.t. the weights (lower = better "
            "conditioned)",
            ICLR_INT("batch", 32, 2, 512, "examples in the fixed batch (the NTK is batch x batch)"),
            ICLR_INT("batch_seed", 0, 0, 1000000, "which training examples form the batch (the same in every trial)"))
