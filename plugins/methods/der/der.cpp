// Method plugin `der`: Dark Experience Replay (and DER++). A reservoir buffer keeps past inputs
// with the network's outputs on them; later steps pull today's outputs back towards those.
#include "iclr/sdk.hpp"

namespace {

class Der : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        iclr::Float alpha{"alpha", 0.2, 0.0, 1e6,
                          "weight of the output-matching term (mammoth's best_args, seq-mnist, buffer 200: 0.2)"};
        iclr::Float beta{"beta", 0.0, 0.0, 1e6,
                         "DER++: weight of cross-entropy on another buffer batch's labels (mammoth: 1.0; 0 = DER; "
                         "supervised objective only)"};
        iclr::Int buffer_size{"buffer_size", 200, 1, 1000000, "reservoir capacity in examples (mammoth: 200)"};
    };

    Der(const Params& p, iclr::RunContext&)
        : ContinualMethod(p), alpha_(p.alpha), beta_(p.beta), slots_(p.buffer_size) {
        if (beta_ > 0 && p.objective() != "supervised")
            throw iclr::PluginError("der: beta > 0 (DER++) replays labels, which objective '" + p.objective() +
                                    "' does not use; set beta = 0");
    }

  protected:
    // alpha * ||out(x_buf) - out_buf||^2 (+ beta * CE on a second buffer batch). out = all logits
    // (supervised) or the backbone's features (SSL: there are no logits to match). The current
    // batch's outputs are recorded here, before the step, as mammoth records them.
    torch::Tensor extra_loss(const iclr::Batch& b, int64_t t) override {
        if (!perturbed_pass()) { // SAM's second pass: the outputs at w were recorded by the first
            torch::NoGradGuard no_grad;
            pending_ = outputs(b.x, t).detach();
        }
        if (x_.empty()) return {};
        auto [x, z, y, task] = sample(b.x.size(0));
        auto loss = alpha_ * torch::mse_loss(outputs(x, t), z);
        if (beta_ > 0) {
            auto [x2, z2, y2, task2] = sample(b.x.size(0));
            loss = loss + beta_ * learner().loss_on(x2, y2, t, task2);
        }
        return loss;
    }
    void after_step(const iclr::Batch& b, int64_t t) override {
        for (int64_t i = 0; i < b.x.size(0); ++i) {
            int64_t j = slots_.next(rng());
            if (j < 0) continue;
            if (j == int64_t(x_.size())) {
                x_.emplace_back();
                z_.emplace_back();
                y_.emplace_back();
                task_.push_back(0);
            }
            x_[size_t(j)] = b.x[i].clone();
            z_[size_t(j)] = pending_[i].clone();
            y_[size_t(j)] = b.y[i].clone();
            task_[size_t(j)] = t;
        }
    }

  private:
    torch::Tensor outputs(const torch::Tensor& x, int64_t t) {
        auto& l = learner();
        return l.supervised() ? l.logits(x, -1) : l.task_features(x, t);
    }
    // n buffer entries drawn uniformly with replacement: inputs, stored outputs, labels, tasks.
    std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> sample(int64_t n) {
        std::uniform_int_distribution<size_t> pick(0, x_.size() - 1);
        std::vector<torch::Tensor> xs, zs, ys;
        std::vector<int64_t> ts;
        for (int64_t k = 0; k < n; ++k) {
            size_t j = pick(rng());
            xs.push_back(x_[j]);
            zs.push_back(z_[j]);
            ys.push_back(y_[j]);
            ts.push_back(task_[j]);
        }
        return {torch::stack(xs), torch::stack(zs), torch::stack(ys), torch::tensor(ts, torch::kLong)};
    }

    double alpha_, beta_;
    iclr::ReservoirSlots slots_; // Algorithm R over the fields below
    torch::Tensor pending_;
    std::vector<torch::Tensor> x_, z_, y_;
    std::vector<int64_t> task_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Der, "der", "0.2.0",
            "Buzzega, Boschini, Porrello, Abati, Calderara. Dark Experience for General Continual Learning: a Strong, "
            "Simple Baseline. NeurIPS 2020.",
            "Dark Experience Replay: match past outputs on a reservoir buffer (DER++ with beta > 0), with any "
            "objective")
