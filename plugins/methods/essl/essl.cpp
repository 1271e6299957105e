// Method plugin `essl`: Equivariant SSL. An invariant SSL objective (SimSiam or Barlow Twins on
// two views) plus lambda x the cross-entropy of predicting which of four rotations a third view
// was turned by; rotate_views instead makes rotation one more invariance (the arm E-SSL says hurts).
#include "iclr/rotation.hpp"
#include "iclr/sdk.hpp"

namespace {

// The SSL learner plus the rotation head: E-SSL's code's SimSiam predictor2, Linear-LN-ReLU-
// Linear-LN-Linear (its SimCLR variant adds a ReLU after the second LayerNorm).
class EsslLearner : public iclr::ContinualLearner {
  public:
    EsslLearner(std::shared_ptr<iclr::Backbone> b, const iclr::Benchmark& bench, const iclr::ContinualParams& p,
                torch::Generator views, int64_t hidden)
        : ContinualLearner(b, bench, p, std::move(views)),
          head_(torch::nn::Linear(b->feature_dim(), hidden), torch::nn::LayerNorm(std::vector<int64_t>{hidden}),
                torch::nn::ReLU(), torch::nn::Linear(hidden, hidden),
                torch::nn::LayerNorm(std::vector<int64_t>{hidden}), torch::nn::Linear(hidden, 4)) {
        head_->to(iclr::module_device(*backbone_)); // drawn on the CPU: the same weights on every device
    }

    // Logits over the four rotations of x's images.
    torch::Tensor rotation_logits(const torch::Tensor& x) { return head_->forward(backbone_->forward(x)); }

    std::vector<torch::Tensor> trainable() override {
        auto out = ContinualLearner::trainable();
        for (auto& t : head_->parameters())
            out.push_back(t);
        return out;
    }
    void train(bool on) override {
        ContinualLearner::train(on);
        head_->train(on);
    }

  private:
    torch::nn::Sequential head_;
};

class Essl : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        Params() : ContinualParams(iclr::ContinualDefaults{0.03, 0.9, 256, "simsiam"}) {}
        iclr::Float lambda{"lambda", 0.4, 0.0, 100.0,
                           "weight of the rotation-prediction cross-entropy (E-SSL's CIFAR-10 runs: 0.4; 0 = the "
                           "invariant baseline)"};
        iclr::Int rotation_hidden{"rotation_hidden", 256, 4, 65536,
                                  "rotation head width (E-SSL's code: 2048 over ResNet-18's 512 features)"};
        iclr::Float rotate_views{"rotate_views", 0.0, 0.0, 1.0,
                                 "probability that each SSL view is turned by 90, 180 or 270 degrees, making "
                                 "rotation an invariance (E-SSL's rotation-invariant arm: 0.5)"};
    };

    Essl(const Params& p, iclr::RunContext&) : ContinualMethod(p), p_(p) {
        if (p.objective() == "supervised")
            throw iclr::PluginError("essl adds rotation prediction to a self-supervised objective: set objective = "
                                    "\"simsiam\" or \"barlow\"");
    }

  protected:
    std::unique_ptr<iclr::ContinualLearner> make_learner(std::shared_ptr<iclr::Backbone> backbone,
                                                         const iclr::Benchmark& b, torch::Generator views) override {
        auto l = std::make_unique<EsslLearner>(std::move(backbone), b, cp_, std::move(views), p_.rotation_hidden);
        essl_ = l.get();
        rotations_ = iclr::make_generator(ctx().seed(), 3);
        rewind_with(rotations_);
        return l;
    }
    // The invariant objective on two views, each first turned with probability rotate_views.
    torch::Tensor batch_loss(const iclr::Batch& b, int64_t t) override {
        auto [v1, v2] = essl_->views(b.x);
        if (p_.rotate_views > 0) {
            v1 = iclr::random_rotation(v1, p_.rotate_views, rotations_);
            v2 = iclr::random_rotation(v2, p_.rotate_views, rotations_);
        }
        return essl_->ssl_loss_on_views(v1, v2, t);
    }
    // lambda x CE(rotation of a third view): the view in all four orientations, as E-SSL's code.
    torch::Tensor extra_loss(const iclr::Batch& b, int64_t t) override {
        if (p_.lambda <= 0) return {};
        auto [x, r] = iclr::four_rotations(essl_->views(b.x).first);
        auto logits = essl_->rotation_logits(x);
        auto ce = torch::nn::functional::cross_entropy(logits, r);
        if (perturbed_pass()) return double(p_.lambda) * ce; // SAM's second pass: counted once
        acc_sum_ += (logits.argmax(1) == r).to(torch::kDouble).mean().item<double>();
        ce_sum_ += ce.item<double>();
        ++n_;
        if (cp_.log_every > 0 && (step() + 1) % cp_.log_every == 0) {
            ctx().log("rotation_loss", ce_sum_ / double(n_), step() + 1, t);
            ctx().log("rotation_acc", acc_sum_ / double(n_), step() + 1, t);
            ce_sum_ = acc_sum_ = 0;
            n_ = 0;
        }
        return double(p_.lambda) * ce;
    }

  private:
    const Params p_;
    EsslLearner* essl_ = nullptr;
    torch::Generator rotations_;
    double ce_sum_ = 0, acc_sum_ = 0;
    int64_t n_ = 0;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Essl, "essl", "0.2.0",
            "Dangovski, Jing, Loh, Han, Srivastava, Cheung, Agrawal, Soljacic. Equivariant Contrastive Learning. "
            "ICLR 2022.",
            "E-SSL: a SimSiam or Barlow Twins objective plus lambda x cross-entropy of four-fold rotation prediction "
            "(lambda 0.4); rotate_views > 0 makes rotation an invariance instead")
