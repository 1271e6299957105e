// Method plugin `protonet`: Prototypical Networks (Snell, Swersky, Zemel, NeurIPS 2017): an embedding
// trained on meta-train episodes so that queries are nearest to their class's mean support feature.
#include "iclr/fewshot.hpp"
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

// The backbone as a few-shot learner: an episode's logits are −‖f(query) − prototype‖², in eval
// mode and without gradients; nothing is adapted, so nothing needs undoing.
class ProtoLearner : public iclr::Encoder, public iclr::EpisodeLearner {
  public:
    explicit ProtoLearner(std::shared_ptr<iclr::Backbone> b) : Encoder(std::move(b), "protonet") {}
    torch::Tensor episode_logits(const iclr::Episode& ep) override {
        torch::NoGradGuard no_grad;
        bool was = backbone().is_training();
        backbone().eval();
        auto logits = iclr::prototype_logits(backbone().forward(ep.support.x), ep.support.y,
                                             backbone().forward(ep.query.x), ep.ways);
        backbone().train(was);
        return logits;
    }
};

class Protonet : public iclr::Method {
  public:
    struct Params {
        iclr::Int meta_steps{"meta_steps", 2000, 0, 1000000, "optimiser steps, one meta-batch of episodes each"};
        iclr::Int meta_batch{"meta_batch", 1, 1, 256, "episodes per step (Snell et al.: 1)"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate (Snell et al.: 1e-3)"};
        iclr::Int log_every{"log_every", 100, 0, 1000000, "steps between train_loss / train_acc rows (0 = none)"};
        iclr::MltiParams interpolation;
    };
    Protonet(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        auto& ctx = s.ctx();
        const auto& b = s.benchmark();
        if (!b.episodes) throw iclr::PluginError("protonet needs a data set that makes episodes (e.g. fewshot)");
        auto backbone = s.new_backbone();
        ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
        ProtoLearner learner(backbone);
        torch::optim::Adam opt(backbone->parameters(), torch::optim::AdamOptions(p_.lr));
        std::mt19937_64 rng(ctx.seed() ^ 0x70f0ULL);
        iclr::TaskInterpolation mlti(p_.interpolation, ctx.seed());
        backbone->train();
        double loss_sum = 0, acc_sum = 0;
        int64_t n = 0;
        for (int64_t step = 1; step <= p_.meta_steps; ++step) {
            ctx.check_cancelled();
            torch::Tensor loss = torch::zeros({});
            for (const auto& ep : mlti.next_batch(*b.episodes, p_.meta_batch, rng)) {
                auto logits = iclr::prototype_logits(backbone->forward(ep.support.x), ep.support.y,
                                                     backbone->forward(ep.query.x), ep.ways);
                loss = loss + torch::nn::functional::cross_entropy(logits, ep.query.y) / double(p_.meta_batch);
                acc_sum +=
                    logits.argmax(1).eq(ep.query.y).to(torch::kDouble).mean().item<double>() / double(p_.meta_batch);
            }
            opt.zero_grad();
            loss.backward();
            opt.step();
            loss_sum += loss.item<double>();
            ++n;
            if (p_.log_every > 0 && step % p_.log_every == 0) {
                ctx.log("train_loss", loss_sum / double(n), step);
                ctx.log("train_acc", acc_sum / double(n), step);
                loss_sum = acc_sum = 0;
                n = 0;
            }
        }
        s.notify({iclr::EventKind::End, -1, p_.meta_steps}, learner);
    }

  private:
    const Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Protonet, "protonet", "0.2.0",
            "Snell, Swersky, Zemel. Prototypical Networks for Few-shot Learning. NeurIPS 2017. "
            "MLTI: Yao, Zhang, Finn. Meta-Learning with Fewer Tasks through Task Interpolation. ICLR 2022.",
            "Prototypical Networks: episodic training of an embedding whose class means classify the queries; "
            "optional task interpolation (MLTI)")
