// Method plugin `latent_adapters`: Deecke, Hospedales, Bilen's sparse latent adapters — a trunk
// pretrained on one domain, its 3x3 convolutions frozen, K gated 1x1 adapters per layer trained on a
// mixture of domains whose labels the method never sees — next to one shared adapter, full
// fine-tuning, and an oracle that picks one adapter per (known) domain. Logs test accuracy per
// domain, their mean and worst, and how purely the learned gates separate the domains.
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"
#include "sparse_adapters.hpp"

namespace {

class LatentAdapters : public iclr::Method {
  public:
    static constexpr bool reads_pretrain = true; // its trunk is pretrained on [pretrain]
    struct Params {
        iclr::String adapters{"adapters", "latent", "latent|single|oracle|none",
                              "latent: K adapters per layer, sparsemax gate on the layer input's average; single: one "
                              "adapter for every example; oracle: one adapter per domain, chosen by the true domain; "
                              "none: no adapters"};
        iclr::Int k{"k", 5, 1, 64, "latent: adapters per layer (official default 2 for PACS / Office-Home)"};
        iclr::Bool freeze{"freeze", true,
                          "freeze the pretrained 3x3 convolutions (official: frozen); false trains them"};
        iclr::Int width{"width", 16, 1, 1024, "channels of the first layer (then 2x, 4x)"};
        iclr::Int epochs{"epochs", 15, 1, 100000, "passes over the mixture (official: 120)"};
        iclr::String optimizer{"optimizer", "sgd", "sgd|adam",
                               "sgd: momentum 0.9, weight decay 1e-4 (official); adam: no weight decay"};
        iclr::Float lr{"lr", 0.1, 0.0, 10.0, "learning rate (official: SGD 0.1)"};
        iclr::Int batch{"batch", 128, 1, 65536, "examples per step (official: 128)"};
        iclr::Int pretrain_epochs{"pretrain_epochs", 3, 0, 1000,
                                  "epochs of supervised pretraining of the trunk (no adapters) on [pretrain]"};
    };
    LatentAdapters(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        if (b.tasks.size() != 1 || !b.tasks[0].train.factors.count("domain"))
            throw iclr::PluginError("latent_adapters needs a mixture of domains (latent_domains)");
        auto& ctx = s.ctx();
        const auto& train = b.tasks[0].train;
        const auto& test = b.tasks[0].test;
        int64_t domains = train.factors.at("domain").max().item<int64_t>() + 1;
        auto mode = latent::mode_of(std::string(p_.adapters));
        latent::AdapterNet net(b.input_shape[0], p_.width, b.num_classes, mode,
                               mode == latent::Mode::Oracle ? domains : int64_t(p_.k));
        net->to(train.x.device()); // drawn on the CPU: the same weights on every device
        auto gen = iclr::make_generator(ctx.seed(), 21);
        pretrain(s, net, gen);
        if (p_.freeze)
            for (auto& l : net->layers)
                l->conv->weight.set_requires_grad(false);
        std::vector<torch::Tensor> trainable;
        int64_t count = 0;
        for (auto& t : net->parameters())
            if (t.requires_grad()) trainable.push_back(t), count += t.numel();
        ctx.set_attribute("trainable_params", std::to_string(count));
        auto opt = optimizer(trainable);
        auto dom = train.factors.at("domain");
        for (int64_t epoch = 1; epoch <= p_.epochs; ++epoch) {
            net->train();
            double loss_sum = 0;
            int64_t n = 0;
            auto order = torch::randperm(train.size(), gen);
            for (int64_t i = 0; i < train.size(); i += p_.batch) {
                ctx.check_cancelled();
                auto idx = order.slice(0, i, std::min(train.size(), i + int64_t(p_.batch))).to(train.x.device());
                auto y = train.y.index_select(0, idx);
                auto loss = torch::nn::functional::cross_entropy(
                    net->forward(train.x.index_select(0, idx), dom.index_select(0, idx)), y);
                opt->zero_grad();
                loss.backward();
                opt->step();
                loss_sum += loss.item<double>() * double(y.size(0));
                n += y.size(0);
            }
            ctx.log("loss", loss_sum / double(n), epoch);
        }
        evaluate(net, test, domains, mode, ctx, p_.epochs);
    }

  private:
    // The SDK's optimisers: libtorch's numbers (SGD's update in one pass, iclr/sgd.hpp).
    std::unique_ptr<torch::optim::Optimizer> optimizer(std::vector<torch::Tensor> params) const {
        if (std::string(p_.optimizer) == "adam") return iclr::make_optimizer("adam", std::move(params), p_.lr);
        return iclr::make_optimizer("sgd", std::move(params), p_.lr, /*momentum=*/0.9, /*weight_decay=*/1e-4);
    }

    // Supervised pretraining of the trunk alone (adapters off) on the sweep's [pretrain] data set:
    // the stand-in for the official ImageNet-pretrained ResNet-26.
    void pretrain(iclr::Session& s, latent::AdapterNet& net, torch::Generator& gen) {
        auto& ctx = s.ctx();
        ctx.set_attribute("pretrained", p_.pretrain_epochs > 0 ? "supervised" : "none");
        if (p_.pretrain_epochs == 0) return;
        const iclr::Benchmark* pb = s.pretrain_benchmark();
        if (!pb) throw iclr::PluginError("latent_adapters: pretrain_epochs > 0 needs a [pretrain] data set");
        iclr::Split data = iclr::joined(*pb);
        torch::nn::Linear head(4 * p_.width, pb->num_classes); // a temporary head over [pretrain]'s classes
        head->to(data.x.device());
        auto params = net->parameters();
        for (auto& t : head->parameters())
            params.push_back(t);
        auto opt = optimizer(params);
        net->train();
        for (int64_t e = 1; e <= p_.pretrain_epochs; ++e) {
            double sum = 0;
            int64_t n = 0;
            for (const auto& batch : iclr::Batches(data, p_.batch, gen, &ctx)) {
                auto loss = torch::nn::functional::cross_entropy(
                    head(net->features(batch.x, torch::Tensor(), /*adapters_on=*/false)), batch.y);
                opt->zero_grad();
                loss.backward();
                opt->step();
                sum += loss.item<double>() * double(batch.y.size(0));
                n += batch.y.size(0);
            }
            ctx.log("pretrain_loss", sum / double(n), e);
        }
    }

    static void evaluate(latent::AdapterNet& net, const iclr::Split& test, int64_t domains, latent::Mode mode,
                         iclr::RunContext& ctx, int64_t step) {
        torch::NoGradGuard ng;
        net->eval();
        auto dom = test.factors.at("domain");
        auto pred = net->forward(test.x, dom).argmax(1);
        auto right = pred.eq(test.y).to(torch::kDouble);
        ctx.log("accuracy", right.mean().item<double>(), step);
        double sum = 0, worst = 1;
        for (int64_t d = 0; d < domains; ++d) {
            double a = right.index_select(0, torch::nonzero(dom == d).flatten()).mean().item<double>();
            ctx.log("domain_accuracy_" + std::to_string(d), a, step);
            sum += a, worst = std::min(worst, a);
        }
        ctx.log("mean_domain_accuracy", sum / double(domains), step);
        ctx.log("worst_domain_accuracy", worst, step);
        if (mode != latent::Mode::Latent) return;
        double purity = 0, support = 0;
        for (size_t l = 0; l < net->layers.size(); ++l) {
            const auto& g = net->layers[l]->last_gate;
            double p = latent::gate_purity(g, dom, domains);
            ctx.log("gate_purity_" + std::to_string(l), p, step);
            purity += p;
            support += g.gt(0).sum(1).to(torch::kDouble).mean().item<double>();
        }
        ctx.log("gate_purity", purity / double(net->layers.size()), step);
        ctx.log("gate_support", support / double(net->layers.size()), step); // adapters on per example
    }

    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, LatentAdapters, "latent_adapters", "0.1.0",
            "Deecke, Hospedales, Bilen. Visual Representation Learning over Latent Domains. ICLR 2022.",
            "sparse latent adapters (K gated 1x1 adapters per layer on a frozen pretrained trunk, sparsemax gates) "
            "vs one shared adapter, full fine-tuning, and an oracle that picks an adapter by the true domain")
