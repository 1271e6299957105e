// Method plugin `maml`: Model-Agnostic Meta-Learning (Finn, Abbeel, Levine, ICML 2017), second or
// first order, with the zeroing trick of Kao et al. (ICLR 2022) as a switch.
#include "iclr/maml.hpp"
#include "iclr/sdk.hpp"

namespace {

class Maml : public iclr::MamlMethod {
  public:
    struct Params : iclr::MamlMethod::Params {
        iclr::Bool zeroing{"zeroing", false,
                           "the zeroing trick (Kao et al., ICLR 2022): the N-way head set to zero before every outer "
                           "step and before test-time adaptation"};
    };
    Maml(const Params& p, iclr::RunContext&) : MamlMethod(p), zeroing_(p.zeroing) {}

  protected:
    std::string name() const override { return "maml"; }
    // An N-way linear head, meta-learned with the backbone (drawn after the trial's manual_seed).
    void make_head(int64_t feature_dim, int64_t ways) override { head_ = torch::nn::Linear(feature_dim, ways); }
    std::vector<torch::Tensor> head_start(int64_t ways) override {
        if (ways != head_->weight.size(0))
            throw iclr::PluginError("maml: an episode of " + std::to_string(ways) + " ways for a head of " +
                                    std::to_string(head_->weight.size(0)));
        return {head_->weight, head_->bias};
    }
    std::vector<torch::Tensor> head_parameters() override { return {head_->weight, head_->bias}; }
    void before_outer_step() override {
        if (!zeroing_) return;
        torch::NoGradGuard no_grad;
        head_->weight.zero_();
        head_->bias.zero_();
    }

  private:
    bool zeroing_;
    torch::nn::Linear head_{nullptr};
};

} // namespace

ICLR_PLUGIN(iclr::Method, Maml, "maml", "0.2.0",
            "Finn, Abbeel, Levine. Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks. ICML 2017. "
            "Zeroing trick: Kao, Chiu, Chen. MAML is a Noisy Contrastive Learner in Classification. ICLR 2022.",
            "MAML on any backbone of Linear / Conv2d / BatchNorm / LayerNorm modules: an inner loop of SGD on the "
            "support set (second or first order), Adam on the query loss; optional zeroing trick")
