// Method plugin `agem`: Averaged Gradient Episodic Memory. Each step's gradient is projected so
// that it does not increase the loss on a batch from the episodic memory of earlier tasks.
#include <algorithm>
#include <numeric>
#include <random>

#include "iclr/sdk.hpp"

namespace {

class Agem : public iclr::Method {
  public:
    struct Params {
        iclr::Float lr{"lr", 0.03, 0.0, 10.0, "SGD learning rate"};
        iclr::Float momentum{"momentum", 0.0, 0.0, 0.999, "SGD momentum (A-GEM's paper and code: plain SGD, 0)"};
        iclr::Int epochs{"epochs", 1, 1, 1000, "epochs per task"};
        iclr::Int batch_size{"batch_size", 10, 1, 65536, "minibatch size (A-GEM's paper: 10)"};
        iclr::Int buffer_size{"buffer_size", 200, 1, 1000000,
                              "episodic memory in examples, split evenly over the tasks (mammoth's A-GEM)"};
        iclr::Int memory_batch{"memory_batch", 64, 1, 65536, "memory examples per reference gradient g_ref"};
        iclr::String head{"head", "task", "task|class",
                          "task: logits masked to each example's task (task-incremental); class: one shared head"};
        iclr::Bool reset_optimizer{"reset_optimizer", true, "a fresh optimiser for each task (matters with momentum)"};
        iclr::Int log_every{"log_every", 50, 0, 1000000, "log train_loss every N steps (0 = never)"};
    };

    Agem(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        iclr::RunContext& ctx = s.ctx();
        iclr::ClassifierLearner learner(s.new_backbone(), b);
        auto params = learner.trainable();
        auto opt = iclr::make_optimizer("sgd", params, p_.lr, p_.momentum);
        std::mt19937_64 rng(ctx.seed());             // memory choice and draws
        auto gen = iclr::make_generator(ctx.seed()); // the data order
        int64_t step = 0, projected = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            if (t > 0 && p_.reset_optimizer) opt = iclr::make_optimizer("sgd", params, p_.lr, p_.momentum);
            learner.backbone().train();
            for (int64_t e = 0; e < p_.epochs; ++e)
                for (const iclr::Batch& batch : iclr::Batches(b.tasks[t].train, p_.batch_size, gen, &ctx)) {
                    auto loss = loss_on(learner, batch.x, batch.y, torch::full({batch.x.size(0)}, int64_t(t)));
                    opt->zero_grad();
                    loss.backward();
                    if (!memory_x_.empty()) projected += project(learner, params, rng, ctx, step);
                    opt->step();
                    ++step;
                    if (p_.log_every > 0 && step % p_.log_every == 0)
                        ctx.log("train_loss", loss.item<double>(), step, int64_t(t));
                }
            remember(b.tasks[t].train, int64_t(t), b.tasks.size(), rng);
            s.notify({iclr::EventKind::TaskEnd, int64_t(t), step}, learner);
        }
        ctx.log("agem_projected_steps", double(projected), step);
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

  private:
    // Cross-entropy where each example is scored under its own task's mask (head = "task") or
    // over all classes (head = "class").
    torch::Tensor loss_on(iclr::ClassifierLearner& learner, const torch::Tensor& x, const torch::Tensor& y,
                          const torch::Tensor& task) {
        if (p_.head() == "class") return torch::nn::functional::cross_entropy(learner.logits(x, -1), y);
        torch::Tensor total;
        auto ids = std::get<0>(at::_unique(task));
        for (int64_t k = 0; k < ids.size(0); ++k) {
            int64_t t = ids[k].item<int64_t>();
            auto rows = torch::nonzero(task == t).flatten().to(x.device()); // the task ids may be on the CPU
            auto part = torch::nn::functional::cross_entropy(
                learner.logits(x.index_select(0, rows), t), y.index_select(0, rows),
                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
            total = total.defined() ? total + part : part;
        }
        return total / double(x.size(0));
    }

    // g_ref from a memory batch; the current gradient projected when it conflicts. Returns 1 when
    // it was projected. The gradient after projection is logged every log_every steps as its dot
    // product with g_ref (never negative: tests/plugins/agem_test.cpp).
    int64_t project(iclr::ClassifierLearner& learner, const std::vector<torch::Tensor>& params, std::mt19937_64& rng,
                    iclr::RunContext& ctx, int64_t step) {
        auto g = iclr::flat_grad(params);
        std::uniform_int_distribution<size_t> pick(0, memory_x_.size() - 1);
        std::vector<torch::Tensor> mx, my, mt;
        for (int64_t k = 0; k < p_.memory_batch; ++k) {
            size_t j = pick(rng);
            mx.push_back(memory_x_[j]);
            my.push_back(memory_y_[j]);
            mt.push_back(torch::tensor(memory_task_[j]));
        }
        for (auto& p : params)
            if (p.grad().defined()) p.mutable_grad().zero_();
        loss_on(learner, torch::stack(mx), torch::stack(my), torch::stack(mt)).backward();
        auto g_ref = iclr::flat_grad(params);
        bool conflict = torch::dot(g, g_ref).item<double>() < 0.0;
        auto g_new = iclr::agem_project(g, g_ref);
        iclr::set_flat_grad(params, g_new);
        if (p_.log_every > 0 && step % p_.log_every == 0)
            ctx.log("agem_dot_after", torch::dot(g_new, g_ref).item<double>(), step);
        return conflict ? 1 : 0;
    }

    // After task t: buffer_size / n_tasks of its training examples, chosen at random, join the memory.
    void remember(const iclr::Split& train, int64_t t, size_t n_tasks, std::mt19937_64& rng) {
        int64_t per_task = std::max<int64_t>(1, p_.buffer_size / int64_t(n_tasks));
        std::vector<int64_t> idx(size_t(train.size()));
        std::iota(idx.begin(), idx.end(), 0);
        std::shuffle(idx.begin(), idx.end(), rng);
        for (int64_t k = 0; k < std::min(per_task, train.size()); ++k) {
            memory_x_.push_back(train.x[idx[size_t(k)]].clone());
            memory_y_.push_back(train.y[idx[size_t(k)]].clone());
            memory_task_.push_back(t);
        }
    }

    Params p_;
    std::vector<torch::Tensor> memory_x_, memory_y_;
    std::vector<int64_t> memory_task_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Agem, "agem", "0.1.0",
            "Chaudhry, Ranzato, Rohrbach, Elhoseiny. Efficient Lifelong Learning with A-GEM. ICLR 2019.",
            "A-GEM: the gradient of each step is projected so it does not raise the loss on an episodic-memory batch "
            "of earlier tasks")
