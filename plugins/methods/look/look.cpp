// Method plugin `look`: supervised pretraining on coarse labels (superclasses of the data set's
// classes) with LOOK's leave-one-out kNN loss over a memory of every training image's embedding,
// or with cross-entropy (the baseline LOOK is compared with); metrics probe the fine classes.
#include "iclr/look.hpp"
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

// [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]] -> the superclass of each class (-1: in no group). Every
// class the tasks train on must be in exactly one group; a group may list classes they do not use.
torch::Tensor superclass_of(const std::vector<std::vector<int64_t>>& groups, const iclr::Benchmark& b) {
    std::vector<int64_t> map(size_t(b.num_classes), -1);
    for (size_t g = 0; g < groups.size(); ++g)
        for (int64_t c : groups[g]) {
            if (c < 0 || c >= b.num_classes)
                throw iclr::PluginError("superclasses: " + std::to_string(c) + " is not a class of the data set (0.." +
                                        std::to_string(b.num_classes - 1) + ")");
            if (map[size_t(c)] >= 0)
                throw iclr::PluginError("superclasses: class " + std::to_string(c) + " is in two groups");
            map[size_t(c)] = int64_t(g);
        }
    for (const auto& t : b.tasks)
        for (int64_t c : t.classes)
            if (map[size_t(c)] < 0)
                throw iclr::PluginError("superclasses: class " + std::to_string(c) + " is in no group");
    return torch::tensor(map, torch::kLong);
}

class Look : public iclr::Method {
  public:
    struct Params {
        iclr::String loss{"loss", "look", "look|cross_entropy",
                          "look: leave-one-out kNN loss over the memory; cross_entropy: a linear classifier over "
                          "the superclasses"};
        iclr::List superclasses{"superclasses", "[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]",
                                "the coarse labels pretraining sees: a list of groups of class numbers"};
        iclr::String projector{"projector", "mlp", "mlp|none",
                               "mlp: Linear-BN-ReLU-Linear to proj_dim on top of the features, for either loss; "
                               "none: the loss acts on the backbone's features"};
        iclr::Int proj_dim{"proj_dim", 128, 2, 65536, "projector width and output size"};
        iclr::Int k{"k", 20, 1, 100000, "neighbours per example (LOOK; the paper's value unverified)"};
        iclr::Float temperature{"temperature", 0.07, 1e-4, 100.0, "tau of the kNN weights e^{s/tau} (unverified)"};
        iclr::Float lr{"lr", 0.05, 0.0, 10.0, "SGD learning rate"};
        iclr::Float momentum{"momentum", 0.9, 0.0, 0.999, "SGD momentum"};
        iclr::Float weight_decay{"weight_decay", 5e-4, 0.0, 1.0, "L2 weight decay"};
        iclr::Int epochs{"epochs", 10, 1, 10000, "epochs over the union of the tasks' training images"};
        iclr::Int batch_size{"batch_size", 128, 2, 65536, "minibatch size"};
        iclr::Float crop_min_scale{"crop_min_scale", 0.5, 0.01, 1.0,
                                   "training images: random resized crop area ~ U(s, 1) (1 = none)"};
        iclr::Int log_every{"log_every", 20, 0, 1000000, "log the loss (and LOOK's neighbour purity) every N steps"};
    };

    Look(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        auto& ctx = s.ctx();
        auto groups = p_.superclasses.int_lists();
        auto coarse_of = superclass_of(groups, b);
        iclr::Split all = iclr::joined(b);
        auto x = all.x, y = coarse_of.to(all.y.device()).index_select(0, all.y);
        if (p_.loss() == "look" && p_.k >= x.size(0))
            throw iclr::PluginError("k = " + std::to_string(p_.k) + " needs more than " + std::to_string(x.size(0)) +
                                    " training images");
        auto backbone = s.new_backbone();
        torch::manual_seed(ctx.seed()); // heads drawn the same whether the backbone came from a cache
        build_heads(backbone->feature_dim(), int64_t(groups.size()));
        auto device = iclr::module_device(*backbone); // the heads are drawn on the CPU: the same weights anywhere
        if (!projector_.is_empty()) projector_->to(device);
        if (!classifier_.is_empty()) classifier_->to(device);
        train(s, backbone, x, y);
        iclr::Encoder encoder(backbone, "look");
        iclr::report_joint(s, encoder, step_);
    }

  private:
    void build_heads(int64_t feature_dim, int64_t groups) {
        int64_t d = feature_dim;
        if (p_.projector() == "mlp") {
            d = p_.proj_dim;
            projector_ = torch::nn::Sequential(torch::nn::Linear(feature_dim, d), torch::nn::BatchNorm1d(d),
                                               torch::nn::ReLU(), torch::nn::Linear(d, d));
        }
        if (p_.loss() == "cross_entropy") classifier_ = torch::nn::Linear(d, groups);
    }
    torch::Tensor embed(iclr::Backbone& backbone, const torch::Tensor& x) {
        auto f = backbone.forward(x);
        return projector_.is_empty() ? f : projector_->forward(f);
    }
    torch::Tensor normalized(const torch::Tensor& e) {
        return torch::nn::functional::normalize(e, torch::nn::functional::NormalizeFuncOptions().dim(1));
    }

    // The memory before the first step: every training image's embedding under the initial weights.
    torch::Tensor initial_bank(iclr::Backbone& backbone, const torch::Tensor& x) {
        torch::NoGradGuard no_grad;
        backbone.eval();
        if (!projector_.is_empty()) projector_->eval();
        std::vector<torch::Tensor> parts;
        for (int64_t i = 0; i < x.size(0); i += 512)
            parts.push_back(normalized(embed(backbone, x.slice(0, i, std::min(x.size(0), i + 512)))));
        return torch::cat(parts);
    }

    std::vector<torch::Tensor> parameters(iclr::Backbone& backbone) {
        auto out = backbone.parameters();
        if (!projector_.is_empty())
            for (auto& t : projector_->parameters())
                out.push_back(t);
        if (!classifier_.is_empty())
            for (auto& t : classifier_->parameters())
                out.push_back(t);
        return out;
    }

    // Epochs of shuffled batches (own loop: LOOK's memory is indexed by the image's position).
    void train(iclr::Session& s, const std::shared_ptr<iclr::Backbone>& backbone, const torch::Tensor& x,
               const torch::Tensor& y) {
        auto& ctx = s.ctx();
        if (p_.loss() == "look") bank_ = initial_bank(*backbone, x);
        auto opt = iclr::make_optimizer("sgd", parameters(*backbone), p_.lr, p_.momentum, p_.weight_decay);
        auto crop = iclr::random_resized_crop(p_.crop_min_scale, 1.0);
        auto gen = iclr::make_generator(ctx.seed()), view_gen = iclr::make_generator(ctx.seed(), 2);
        backbone->train();
        if (!projector_.is_empty()) projector_->train();
        for (int64_t e = 0; e < p_.epochs; ++e) {
            auto order = torch::randperm(x.size(0), gen);
            for (int64_t i = 0; i + 1 < x.size(0); i += p_.batch_size) { // BatchNorm needs two images
                ctx.check_cancelled();
                auto idx = order.slice(0, i, std::min(x.size(0), i + p_.batch_size)).to(x.device());
                auto xb = x.index_select(0, idx);
                if (p_.crop_min_scale < 1.0) xb = crop(xb, view_gen);
                auto loss = batch_loss(*backbone, xb, y, idx);
                opt->zero_grad();
                loss.backward();
                opt->step();
                if (bank_.defined()) bank_.index_copy_(0, idx, fresh_); // after backward: the loss read it
                ++step_;
                log(ctx, loss.item<double>());
            }
        }
    }

    // LOOK: the kNN loss against the memory (the batch's new embeddings, fresh_, replace its rows
    // after the step); cross-entropy: the classifier over the superclasses.
    torch::Tensor batch_loss(iclr::Backbone& backbone, const torch::Tensor& xb, const torch::Tensor& y,
                             const torch::Tensor& idx) {
        auto emb = embed(backbone, xb);
        auto yb = y.index_select(0, idx);
        if (!bank_.defined()) return torch::nn::functional::cross_entropy(classifier_->forward(emb), yb);
        auto z = normalized(emb);
        auto t = iclr::look_loss(z, yb, bank_, y, idx, p_.k, p_.temperature);
        purity_sum_ += t.purity;
        orphans_ += t.orphans;
        fresh_ = z.detach();
        return t.loss;
    }

    // Means over the last log_every steps: the loss, and LOOK's neighbour purity and orphan count.
    void log(iclr::RunContext& ctx, double loss) {
        loss_sum_ += loss;
        ++n_;
        if (p_.log_every <= 0 || step_ % p_.log_every != 0) return;
        ctx.log("train_loss", loss_sum_ / double(n_), step_);
        if (bank_.defined()) {
            ctx.log("look_purity", purity_sum_ / double(n_), step_);
            ctx.log("look_orphans", double(orphans_), step_);
        }
        loss_sum_ = purity_sum_ = 0;
        n_ = orphans_ = 0;
    }

    Params p_;
    torch::nn::Sequential projector_{nullptr};
    torch::nn::Linear classifier_{nullptr};
    torch::Tensor bank_;  // LOOK's memory: one L2-normalised embedding per training image
    torch::Tensor fresh_; // the last batch's embeddings, written to the memory after its step
    int64_t step_ = 0, n_ = 0, orphans_ = 0;
    double loss_sum_ = 0, purity_sum_ = 0;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Look, "look", "0.1.0",
            "Feng, Jiang, Tang, Jin, Gao. Rethinking Supervised Pre-training for Better Downstream Transferring. "
            "ICLR 2022.",
            "LOOK: supervised pretraining on superclasses with a leave-one-out kNN loss over a feature memory (or "
            "cross-entropy, the baseline); evaluate the fine classes with linear_probe or knn_accuracy")
