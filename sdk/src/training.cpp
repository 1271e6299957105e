// Training helpers: seeded generators, shuffled batches, optimisers by name, the supervised loop
// (iclr/training.hpp).
#include "iclr/training.hpp"

namespace iclr {

template class ReleasingGrads<torch::optim::Adam>;
template class ReleasingGrads<torch::optim::AdamW>;
template class ReleasingGrads<FusedSgd>;

Batches::Batches(const Split& split, int64_t batch_size, torch::Generator& gen, RunContext* ctx, BatchOptions opts)
    : split_(split), batch_(batch_size), ctx_(ctx), opts_(std::move(opts)), order_(torch::randperm(split.size(), gen)) {
    TORCH_CHECK(batch_size > 0, "batch size must be positive");
}

Batch Batches::at(int64_t k) const {
    if (ctx_) ctx_->check_cancelled();
    int64_t i = k * batch_;
    // The order is drawn on the CPU (the same batches on every device); the split may be on a GPU.
    auto idx = order_.slice(0, i, std::min(split_.size(), i + batch_)).to(split_.x.device());
    auto x = split_.x.index_select(0, idx);
    if (opts_.augment) x = opts_.augment(x);
    return {x, split_.y.index_select(0, idx), k};
}

torch::Generator make_generator(uint64_t seed, uint64_t stream) {
    return at::make_generator<at::CPUGeneratorImpl>(seed ^ (stream * 0x9e3779b97f4a7c15ULL));
}

std::shared_ptr<Backbone> frozen_copy(Session& session, Backbone& backbone) {
    at::Generator global = at::globalContext().defaultGenerator(c10::DeviceType::CPU);
    torch::Tensor state;
    {
        std::lock_guard<std::mutex> lock(global.mutex());
        state = global.get_state();
    }
    std::shared_ptr<Backbone> copy = session.new_backbone();
    {
        std::lock_guard<std::mutex> lock(global.mutex());
        global.set_state(state);
    }
    torch::NoGradGuard no_grad;
    auto params = backbone.named_parameters(), buffers = backbone.named_buffers();
    for (auto& p : copy->named_parameters()) {
        const torch::Tensor* from = params.find(p.key());
        if (!from || !from->sizes().equals(p.value().sizes()))
            throw PluginError("frozen_copy: the model plugin built a backbone without the parameter '" + p.key() +
                              "' of the one copied (is it the trial's model?)");
        p.value().copy_(*from);
        p.value().set_requires_grad(false);
    }
    for (auto& b : copy->named_buffers())
        if (const torch::Tensor* from = buffers.find(b.key())) b.value().copy_(*from);
    copy->eval();
    return copy;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind, std::vector<torch::Tensor> params,
                                                        double lr, double momentum, double weight_decay,
                                                        const SamOptions& sam) {
    if (kind == "sam") {
        if (sam.base == "sam") throw PluginError("optimizer 'sam' cannot wrap itself (base: sgd, adam, adamw)");
        return std::make_unique<Sam>(make_optimizer(sam.base, std::move(params), lr, momentum, weight_decay), sam);
    }
    if (kind == "adam")
        return std::make_unique<ReleasingGrads<torch::optim::Adam>>(
            std::move(params), torch::optim::AdamOptions(lr).weight_decay(weight_decay));
    if (kind == "adamw")
        return std::make_unique<ReleasingGrads<torch::optim::AdamW>>(
            std::move(params), torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
    if (kind != "sgd") throw PluginError("unknown optimizer '" + kind + "' (sgd, adam, adamw, sam)");
    return std::make_unique<ReleasingGrads<FusedSgd>>(
        std::move(params), torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(weight_decay));
}

torch::Tensor optimizer_step(torch::optim::Optimizer& opt, const std::function<torch::Tensor()>& loss) {
    torch::Tensor first;
    opt.step([&] {
        opt.zero_grad();
        auto l = loss();
        l.backward();
        if (!first.defined()) first = l.detach();
        return l;
    });
    return first;
}

int64_t train_supervised(Learner& learner, torch::optim::Optimizer& opt, const Split& split, int64_t task,
                         int64_t epochs, int64_t batch_size, torch::Generator& gen, RunContext& ctx,
                         const std::function<void(double)>& on_step) {
    int64_t steps = 0;
    learner.backbone().train();
    for (int64_t e = 0; e < epochs; ++e)
        for (const Batch& b : Batches(split, batch_size, gen, &ctx)) {
            auto loss = optimizer_step(
                opt, [&] { return torch::nn::functional::cross_entropy(learner.logits(b.x, task), b.y); });
            ++steps;
            if (on_step) on_step(loss.item<double>());
        }
    return steps;
}

} // namespace iclr
