// Method plugin `multitask`: joint training on every task at once with any objective, the upper
// bound that sequential methods are compared with (no forgetting by construction).
#include "iclr/sdk.hpp"

namespace {

class Multitask : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {
        Params() : ContinualParams(iclr::ContinualDefaults{0.01, 0.0, 64}) {}
    };

    Multitask(const Params& p, iclr::RunContext&) : ContinualMethod(p) {}

    // One pool of every task's training examples, each tagged with its task so a task head masks
    // its logits to that task's classes; `epochs` passes over the pool.
    void run(iclr::Session& s) override {
        auto opt = start(s);
        const iclr::Benchmark& b = s.benchmark();
        std::vector<torch::Tensor> xs, ys, ts;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            xs.push_back(b.tasks[t].train.x);
            ys.push_back(b.tasks[t].train.y);
            ts.push_back(
                torch::full({b.tasks[t].train.size()}, int64_t(t), b.tasks[t].train.y.options().dtype(torch::kInt64)));
        }
        y_ = torch::cat(ys);
        task_ = torch::cat(ts);
        // Batches over (x, example index): the index finds each example's label and task.
        iclr::Split pool{torch::cat(xs), torch::arange(y_.size(0), y_.options().dtype(torch::kInt64))};
        int64_t last = int64_t(b.tasks.size()) - 1;
        learner().train(true);
        for (int64_t e = 0; e < cp_.epochs; ++e)
            for (const iclr::Batch& batch : iclr::Batches(pool, cp_.batch_size, gen(), &s.ctx()))
                train_step(*opt, batch, last);
        // Only the final row of the accuracy matrix exists for a jointly trained model.
        s.notify({iclr::EventKind::TaskEnd, last, step()}, learner());
        s.notify({iclr::EventKind::End, last, step()}, learner());
    }

  protected:
    torch::Tensor batch_loss(const iclr::Batch& b, int64_t t) override {
        return learner().loss_on(b.x, y_.index_select(0, b.y), t, task_.index_select(0, b.y));
    }

  private:
    torch::Tensor y_, task_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Multitask, "multitask", "0.3.0", "",
            "joint training on the union of all tasks with any objective (the upper bound for continual methods)")
