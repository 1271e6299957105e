// Method plugin `lump`: Lifelong Unsupervised Mixup. Each batch's two views are mixed with two views
// of un-augmented images replayed from a reservoir buffer, one lambda ~ Beta(alpha, alpha) per batch.
#include "iclr/sdk.hpp"

namespace {

class Lump : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        Params() : ContinualParams(iclr::ContinualDefaults{0.03, 0.9, 64, "simsiam"}) {}
        iclr::Float alpha{"alpha", 0.4, 1e-3, 100.0, "mixup lambda ~ Beta(alpha, alpha) (every official config: 0.4)"};
        iclr::Int buffer_size{"buffer_size", 256, 1, 1000000,
                              "reservoir capacity in un-augmented images (LUMP's code: 256)"};
    };

    Lump(const Params& p, iclr::RunContext&) : ContinualMethod(p), alpha_(p.alpha), buffer_(p.buffer_size) {
        if (p.objective() == "supervised")
            throw iclr::PluginError("lump mixes the two views of a self-supervised objective: set objective = "
                                    "\"simsiam\" or \"barlow\"");
    }

  protected:
    // LUMP's code: mixed_1 = lambda x_1 + (1 - lambda) b_1 and mixed_2 = lambda x_2 + (1 - lambda) b_2
    // with x_i the batch's views and b_i views of a buffer batch; the SSL loss on the mixed pair only.
    torch::Tensor batch_loss(const iclr::Batch& b, int64_t t) override {
        auto& l = learner();
        auto [x1, x2] = l.views(b.x);
        if (buffer_.size() == 0) return l.ssl_loss_on_views(x1, x2, t);
        auto [bx, by] = buffer_.sample(b.x.size(0), rng());
        auto [b1, b2] = l.views(bx);
        double lambda = iclr::sample_beta(alpha_, alpha_, rng());
        if (cp_.log_every > 0 && (step() + 1) % cp_.log_every == 0 && !perturbed_pass())
            ctx().log("lump_lambda", lambda, step() + 1, t);
        return l.ssl_loss_on_views(lambda * x1 + (1.0 - lambda) * b1, lambda * x2 + (1.0 - lambda) * b2, t);
    }
    void after_step(const iclr::Batch& b, int64_t) override { buffer_.add(b.x, b.y, rng()); }

  private:
    double alpha_;
    iclr::ReservoirBuffer buffer_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Lump, "lump", "0.2.0",
            "Madaan, Yoon, Li, Liu, Hwang. Representational Continuity for Unsupervised Continual Learning. ICLR "
            "2022.",
            "LUMP: mixup of the current batch's views with views of replayed buffer images, lambda ~ Beta(0.4, 0.4); "
            "SimSiam or Barlow Twins objective")
