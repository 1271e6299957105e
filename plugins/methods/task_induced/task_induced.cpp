// Method plugin `task_induced`: learns a representation on the first `prior_tasks` tasks only —
// with their task information (supervised on their labels), without it (an autoencoder, SimCLR),
// or not at all (the network as initialised); later tasks stay unseen, for the metrics to probe.
#include "iclr/contrastive.hpp"
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

class TaskInduced : public iclr::Method {
  public:
    struct Params {
        iclr::String objective{"objective", "supervised", "supervised|autoencoder|contrastive|none",
                               "supervised: cross-entropy on the prior tasks' labels (task-induced); autoencoder: "
                               "reconstruct the input; contrastive: SimCLR on two views; none: no training"};
        iclr::Int prior_tasks{"prior_tasks", 1, 1, 1000, "train on the first N tasks; the rest are unseen"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate"};
        iclr::Int epochs{"epochs", 10, 1, 10000, "epochs over the prior tasks' training images"};
        iclr::Int batch_size{"batch_size", 128, 2, 65536, "minibatch size"};
        iclr::Int hidden{"hidden", 256, 2, 65536, "width of the decoder's / projector's hidden layer"};
        iclr::Int proj_dim{"proj_dim", 64, 2, 65536, "contrastive: projector output size"};
        iclr::Float temperature{"temperature", 0.5, 1e-3, 100.0, "contrastive: NT-Xent tau (SimCLR, CIFAR-10: 0.5)"};
        iclr::Float crop_min_scale{"crop_min_scale", 0.5, 0.01, 1.0,
                                   "contrastive views: random resized crop area ~ U(s, 1)"};
        iclr::Float noise{"noise", 0.1, 0.0, 10.0, "contrastive views: Gaussian noise sd added last"};
        iclr::Int log_every{"log_every", 20, 0, 1000000, "log the mean training loss every N steps"};
    };

    TaskInduced(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        auto& ctx = s.ctx();
        if (p_.prior_tasks > int64_t(b.tasks.size()))
            throw iclr::PluginError("prior_tasks = " + std::to_string(p_.prior_tasks) + " but the data set has " +
                                    std::to_string(b.tasks.size()) + " task(s)");
        iclr::Benchmark prior = b; // shares the tensors
        prior.tasks.resize(size_t(p_.prior_tasks));
        auto backbone = s.new_backbone();
        torch::manual_seed(ctx.seed()); // heads drawn the same whether the backbone came from a cache
        build_head(backbone->feature_dim(), b);
        if (head_) head_->to(iclr::module_device(*backbone)); // drawn on the CPU: the same weights anywhere
        if (p_.objective() != "none") train(ctx, *backbone, iclr::joined(prior));
        iclr::Encoder encoder(backbone, "task_induced");
        iclr::report_joint(s, encoder, step_);
    }

  private:
    void build_head(int64_t d, const iclr::Benchmark& b) {
        int64_t pixels = 1;
        for (auto v : b.input_shape)
            pixels *= v;
        if (p_.objective() == "supervised")
            head_ = torch::nn::Sequential(torch::nn::Linear(d, b.num_classes));
        else if (p_.objective() == "autoencoder")
            head_ = torch::nn::Sequential(torch::nn::Linear(d, p_.hidden), torch::nn::ReLU(),
                                          torch::nn::Linear(p_.hidden, pixels)); // the decoder
        else if (p_.objective() == "contrastive")
            head_ = torch::nn::Sequential(torch::nn::Linear(d, p_.hidden), torch::nn::ReLU(),
                                          torch::nn::Linear(p_.hidden, p_.proj_dim)); // SimCLR's projector
    }

    torch::Tensor loss(iclr::Backbone& backbone, const iclr::Batch& batch, torch::Generator& view_gen) {
        namespace F = torch::nn::functional;
        if (p_.objective() == "supervised") return F::cross_entropy(head_->forward(backbone.forward(batch.x)), batch.y);
        if (p_.objective() == "autoencoder")
            return F::mse_loss(head_->forward(backbone.forward(batch.x)), batch.x.flatten(1));
        auto [v1, v2] = iclr::two_views(views_, batch.x, view_gen);
        return iclr::nt_xent(head_->forward(backbone.forward(v1)), head_->forward(backbone.forward(v2)),
                             p_.temperature);
    }

    void train(iclr::RunContext& ctx, iclr::Backbone& backbone, const iclr::Split& data) {
        auto params = backbone.parameters();
        for (auto& t : head_->parameters())
            params.push_back(t);
        torch::optim::Adam opt(params, torch::optim::AdamOptions(p_.lr));
        views_ = iclr::compose({iclr::random_resized_crop(p_.crop_min_scale, 1.0), iclr::gaussian_noise(p_.noise)});
        auto gen = iclr::make_generator(ctx.seed()), view_gen = iclr::make_generator(ctx.seed(), 2);
        backbone.train();
        head_->train();
        double sum = 0;
        int64_t n = 0;
        for (int64_t e = 0; e < p_.epochs; ++e)
            for (const iclr::Batch& batch :
                 iclr::Batches(data, p_.batch_size, gen, &ctx, iclr::BatchOptions{true, {}})) { // full batches
                auto l = loss(backbone, batch, view_gen);
                opt.zero_grad();
                l.backward();
                opt.step();
                ++step_;
                sum += l.item<double>();
                if (++n == p_.log_every) {
                    ctx.log("train_loss", sum / double(n), step_);
                    sum = 0;
                    n = 0;
                }
            }
    }

    Params p_;
    torch::nn::Sequential head_{nullptr};
    iclr::Augment views_;
    int64_t step_ = 0;
};

} // namespace

ICLR_PLUGIN(iclr::Method, TaskInduced, "task_induced", "0.1.0",
            "Yamada, Pertsch, Zhang, Lim. Task-Induced Representation Learning. ICLR 2022.",
            "a representation learned on the first prior_tasks tasks only: supervised (task information), autoencoder, "
            "contrastive (SimCLR) or none; probe the unseen tasks with linear_probe or knn_accuracy")
