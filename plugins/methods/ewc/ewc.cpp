// Method plugin `ewc`: online Elastic Weight Consolidation. One running diagonal Fisher, decayed by
// gamma and added to after each task, anchors the parameters at their last task's end point.
#include "iclr/sdk.hpp"

namespace {

class Ewc : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        iclr::Float lambda{"lambda", 100.0, 0.0, 1e12,
                           "penalty strength: (lambda / 2) sum_i F_i (theta_i - theta*_i)^2"};
        iclr::Float gamma{"gamma", 1.0, 0.0, 1.0, "decay of the running Fisher (online EWC; van de Ven et al.: 1)"};
        iclr::Int fisher_samples{"fisher_samples", 500, 1, 1000000,
                                 "training examples of each task the Fisher is estimated on"};
    };

    Ewc(const Params& p, iclr::RunContext&)
        : ContinualMethod(p), lambda_(p.lambda), gamma_(p.gamma), samples_(p.fisher_samples) {}

  protected:
    torch::Tensor extra_loss(const iclr::Batch&, int64_t t) override {
        if (fisher_.empty() || lambda_ == 0.0) return {};
        torch::Tensor penalty = torch::zeros({});
        for (size_t k = 0; k < params_.size(); ++k)
            penalty = penalty + (fisher_[k] * (params_[k] - anchor_[k]).pow(2)).sum();
        if (cp_.log_every > 0 && (step() + 1) % cp_.log_every == 0 && !perturbed_pass())
            ctx().log("ewc_penalty", penalty.item<double>(), step() + 1, t);
        return 0.5 * lambda_ * penalty;
    }

    // F <- gamma F + F_t; theta* <- theta. F_t: the mean squared gradient of the log-likelihood of
    // the model's own prediction, one example at a time (van de Ven et al.'s default), in eval
    // mode; with an SSL objective (no labels, BatchNorm needs pairs) the mean squared gradient of
    // the objective on mini-batches of batch_size.
    void after_task(int64_t t) override {
        auto& l = learner();
        params_ = l.trainable();
        const iclr::Split& train = session().benchmark().tasks[size_t(t)].train;
        int64_t n = std::min(samples_, train.size());
        std::vector<torch::Tensor> f;
        for (auto& p : params_)
            f.push_back(torch::zeros_like(p));
        l.train(false);
        int64_t chunk = l.supervised() ? 1 : cp_.batch_size, pieces = 0;
        for (int64_t i = 0; i + chunk <= n; i += chunk, ++pieces) {
            auto x = train.x.slice(0, i, i + chunk);
            torch::Tensor loss;
            if (l.supervised()) {
                auto logits = l.logits(x, cp_.head() == "task" ? t : -1);
                loss = torch::nn::functional::cross_entropy(logits, logits.argmax(1).detach());
            } else {
                loss = l.loss_on(x, train.y.slice(0, i, i + chunk), t);
            }
            for (auto& p : params_)
                if (p.grad().defined()) p.mutable_grad().zero_();
            loss.backward();
            torch::NoGradGuard no_grad;
            for (size_t k = 0; k < params_.size(); ++k)
                if (params_[k].grad().defined()) f[k].add_(params_[k].grad().pow(2));
        }
        l.train(true);
        torch::NoGradGuard no_grad;
        if (fisher_.empty())
            for (auto& p : params_)
                fisher_.push_back(torch::zeros_like(p));
        anchor_.clear();
        for (size_t k = 0; k < params_.size(); ++k) {
            fisher_[k].mul_(gamma_).add_(f[k] / double(std::max<int64_t>(1, pieces)));
            anchor_.push_back(params_[k].detach().clone());
        }
    }

  private:
    double lambda_, gamma_;
    int64_t samples_;
    std::vector<torch::Tensor> params_, fisher_, anchor_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Ewc, "ewc", "0.2.0",
            "Kirkpatrick et al. Overcoming catastrophic forgetting in neural networks. PNAS 2017; online form: "
            "Schwarz et al. Progress & Compress. ICML 2018.",
            "online EWC: a quadratic penalty weighted by a running diagonal Fisher, with any objective")
