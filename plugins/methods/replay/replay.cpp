// Method plugin `replay`: sequential training where each batch is joined by a batch drawn from a
// reservoir buffer of earlier examples (experience replay, the simplest rehearsal baseline).
#include "iclr/sdk.hpp"

namespace {

class Replay : public iclr::Method {
  public:
    // Each parameter is declared once: name, default, range, help. The host fills this struct for
    // every trial, `iclr plugins methods/replay` lists it, and a sweep is checked against it.
    struct Params {
        iclr::Float lr{"lr", 0.05, 0.0, 10.0, "SGD learning rate"};
        iclr::Int epochs{"epochs", 1, 1, 1000, "epochs per task"};
        iclr::Int batch_size{"batch_size", 32, 1, 65536, "minibatch size (the replayed batch has the same size)"};
        iclr::Int buffer_size{"buffer_size", 200, 1, 1000000, "reservoir capacity in examples"};
    };

    Replay(const Params& p, iclr::RunContext&) : p_(p), buffer_(p.buffer_size) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        iclr::RunContext& ctx = s.ctx();
        iclr::ClassifierLearner learner(s.new_backbone(), b);
        torch::optim::SGD opt(learner.trainable(), torch::optim::SGDOptions(p_.lr));
        std::mt19937_64 rng(ctx.seed());             // the buffer's draws
        auto gen = iclr::make_generator(ctx.seed()); // the data order
        int64_t step = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            for (int64_t e = 0; e < p_.epochs; ++e)
                for (const iclr::Batch& batch : iclr::Batches(b.tasks[t].train, p_.batch_size, gen, &ctx)) {
                    // loss = CE(current batch) + CE(replayed batch), one shared head (class-incremental)
                    auto loss = torch::nn::functional::cross_entropy(learner.logits(batch.x, -1), batch.y);
                    if (buffer_.size() > 0) {
                        auto [rx, ry] = buffer_.sample(batch.x.size(0), rng);
                        loss = loss + torch::nn::functional::cross_entropy(learner.logits(rx, -1), ry);
                    }
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                    buffer_.add(batch.x, batch.y, rng);
                    if (++step % 50 == 0) ctx.log("train_loss", loss.item<double>(), step, int64_t(t));
                }
            s.notify({iclr::EventKind::TaskEnd, int64_t(t), step}, learner);
        }
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

  private:
    Params p_;
    iclr::ReservoirBuffer buffer_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Replay, "replay", "0.1.0",
            "Chaudhry et al. On Tiny Episodic Memories in Continual Learning. arXiv:1902.10486, 2019.",
            "experience replay: each SGD step also fits a batch sampled from a reservoir buffer")
