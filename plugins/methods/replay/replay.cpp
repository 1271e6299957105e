// Method plugin `replay`: sequential training where each batch is joined by a batch drawn from a
// reservoir buffer of earlier examples (experience replay, the simplest rehearsal baseline).
#include "iclr/sdk.hpp"

namespace {

class Replay : public iclr::Method {
  public:
    Replay(const iclr::ParamSet& p, iclr::RunContext&)
        : lr_(p.get_float("lr")), epochs_(p.get_int("epochs")), batch_(p.get_int("batch_size")),
          buffer_(p.get_int("buffer_size")) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        iclr::RunContext& ctx = s.ctx();
        iclr::ClassifierLearner learner(s.new_backbone(), b);
        torch::optim::SGD opt(learner.trainable(), torch::optim::SGDOptions(lr_));
        std::mt19937_64 rng(ctx.seed());
        auto gen = at::detail::createCPUGenerator(ctx.seed());
        int64_t step = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            const iclr::Split& train = b.tasks[t].train;
            for (int64_t e = 0; e < epochs_; ++e) {
                auto order = torch::randperm(train.size(), gen);
                for (int64_t i = 0; i < train.size(); i += batch_) {
                    ctx.check_cancelled();
                    auto idx = order.slice(0, i, std::min(train.size(), i + batch_));
                    auto x = train.x.index_select(0, idx), y = train.y.index_select(0, idx);
                    // loss = CE(current batch) + CE(replayed batch), one shared head (class-incremental)
                    auto loss = torch::nn::functional::cross_entropy(learner.logits(x, -1), y);
                    if (buffer_.size() > 0) {
                        auto [rx, ry] = buffer_.sample(x.size(0), rng);
                        loss = loss + torch::nn::functional::cross_entropy(learner.logits(rx, -1), ry);
                    }
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                    buffer_.add(x, y, rng);
                    if (++step % 50 == 0) ctx.log("train_loss", loss.item<double>(), step, int64_t(t));
                }
            }
            s.notify({iclr::EventKind::TaskEnd, int64_t(t), step}, learner);
        }
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

  private:
    double lr_;
    int64_t epochs_, batch_;
    iclr::ReservoirBuffer buffer_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Replay, "replay", "0.1.0",
            "Chaudhry et al. On Tiny Episodic Memories in Continual Learning. arXiv:1902.10486, 2019.",
            "experience replay: each SGD step also fits a batch sampled from a reservoir buffer",
            ICLR_FLOAT("lr", 0.05, 0.0, 10.0, "SGD learning rate"), ICLR_INT("epochs", 1, 1, 1000, "epochs per task"),
            ICLR_INT("batch_size", 32, 1, 65536, "minibatch size (the replayed batch has the same size)"),
            ICLR_INT("buffer_size", 200, 1, 1000000, "reservoir capacity in examples"))
