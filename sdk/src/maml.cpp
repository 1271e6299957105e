// MAML: fast weights, the inner loop, the adapted learner and the meta-training loop (iclr/maml.hpp).
#include "iclr/maml.hpp"

namespace iclr {

std::vector<torch::Tensor> inner_loop(const std::vector<torch::Tensor>& start,
                                      const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& loss,
                                      int64_t steps, double lr, bool second_order) {
    std::vector<torch::Tensor> w = start;
    for (int64_t s = 0; s < steps; ++s) {
        auto g = torch::autograd::grad({loss(w)}, w, {}, /*retain_graph=*/true, /*create_graph=*/second_order,
                                       /*allow_unused=*/true);
        for (size_t k = 0; k < w.size(); ++k)
            if (g[k].defined()) w[k] = w[k] - lr * (second_order ? g[k] : g[k].detach());
    }
    return w;
}

FastWeights::FastWeights(torch::nn::Module& root, const std::string& model) {
    for (const auto& m : root.modules(/*include_self=*/true)) {
        if (auto* l = dynamic_cast<torch::nn::LinearImpl*>(m.get())) add(l->weight, l->bias);
        if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) add(c->weight, c->bias);
        if (auto* b = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) add(b->weight, b->bias);
        if (auto* b = dynamic_cast<torch::nn::BatchNorm1dImpl*>(m.get())) add(b->weight, b->bias);
        if (auto* n = dynamic_cast<torch::nn::LayerNormImpl*>(m.get())) add(n->weight, n->bias);
    }
    for (const auto& p : root.named_parameters()) {
        bool found = false;
        for (size_t k = 0; k < slots_.size() && !found; ++k)
            found = slots_[k]->unsafeGetTensorImpl() == p.value().unsafeGetTensorImpl();
        if (!found)
            throw PluginError("maml: " + model +
                              " model has a parameter outside Linear / Conv2d / BatchNorm / "
                              "LayerNorm modules (" +
                              p.key() + "): fast weights cannot reach it");
    }
    for (auto* s : slots_)
        originals_.push_back(*s);
}

void FastWeights::use(const std::vector<torch::Tensor>& fast) {
    for (size_t k = 0; k < slots_.size(); ++k)
        *slots_[k] = fast[k];
}

void FastWeights::add(torch::Tensor& w, torch::Tensor& b) {
    if (w.defined()) slots_.push_back(&w);
    if (b.defined()) slots_.push_back(&b);
}

MamlLearner::MamlLearner(std::shared_ptr<Backbone> b, const std::string& model, Options o, HeadStart head_start)
    : Encoder(b, "maml"), fast_(*b, model), o_(o), head_start_(std::move(head_start)) {}

torch::Tensor MamlLearner::query_loss(const Episode& ep) {
    auto logits = adapted_query_logits(ep, o_.inner_steps, o_.second_order);
    return torch::nn::functional::cross_entropy(logits, ep.query.y);
}

torch::Tensor MamlLearner::episode_logits(const Episode& ep) {
    auto buffers = save_buffers();
    auto logits = adapted_query_logits(ep, o_.test_inner_steps, false).detach();
    restore_buffers(buffers);
    return logits;
}

torch::Tensor MamlLearner::adapted_query_logits(const Episode& ep, int64_t steps, bool second_order) {
    auto start = fast_.parameters();
    for (auto& h : head_start_(ep.ways))
        start.push_back(h);
    size_t n = fast_.parameters().size();
    auto logits = [&](const std::vector<torch::Tensor>& w, const torch::Tensor& x) {
        fast_.use(std::vector<torch::Tensor>(w.begin(), w.begin() + long(n)));
        return torch::nn::functional::linear(backbone().forward(x), w[n], w[n + 1]);
    };
    auto support_loss = [&](const std::vector<torch::Tensor>& w) {
        return torch::nn::functional::cross_entropy(logits(w, ep.support.x), ep.support.y);
    };
    torch::Tensor out;
    try {
        torch::AutoGradMode grad(true);
        auto adapted = inner_loop(start, support_loss, steps, o_.inner_lr, second_order);
        out = logits(adapted, ep.query.x);
    } catch (...) {
        fast_.restore();
        throw;
    }
    fast_.restore();
    return out;
}

std::vector<torch::Tensor> MamlLearner::save_buffers() {
    std::vector<torch::Tensor> out;
    for (auto& b : backbone().buffers())
        out.push_back(b.clone());
    return out;
}

void MamlLearner::restore_buffers(const std::vector<torch::Tensor>& saved) {
    torch::NoGradGuard no_grad;
    auto now = backbone().buffers();
    for (size_t k = 0; k < now.size(); ++k)
        now[k].copy_(saved[k]);
}

void MamlMethod::run(Session& s) {
    auto& ctx = s.ctx();
    const auto& b = s.benchmark();
    if (!b.episodes) throw PluginError(name() + " needs a data set that makes episodes (e.g. fewshot)");
    auto backbone = s.new_backbone();
    ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
    torch::manual_seed(ctx.seed());
    make_head(backbone->feature_dim(), b.num_classes);
    {
        // The head is drawn on the CPU (the same weights on every device) and moved in place to the
        // backbone's device, as Module::to moves a parameter: the method's module keeps the tensors.
        torch::NoGradGuard no_grad;
        auto device = module_device(*backbone);
        for (auto& h : head_parameters())
            if (h.device() != device) h.set_data(h.to(device));
    }
    MamlLearner learner(backbone, "the sweep's", {p_.inner_steps, p_.test_inner_steps, p_.inner_lr, !p_.first_order},
                        [this](int64_t ways) { return head_start(ways); });
    auto params = learner.backbone_parameters();
    for (auto& h : head_parameters())
        params.push_back(h);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(p_.meta_lr));
    std::mt19937_64 rng(ctx.seed() ^ 0x3a31ULL);
    TaskInterpolation mlti(p_.interpolation, ctx.seed());
    backbone->train();
    double sum = 0;
    int64_t n = 0;
    for (int64_t step = 1; step <= p_.meta_steps; ++step) {
        ctx.check_cancelled();
        before_outer_step();
        opt.zero_grad();
        torch::Tensor loss = torch::zeros({});
        for (const auto& ep : mlti.next_batch(*b.episodes, p_.meta_batch, rng))
            loss = loss + learner.query_loss(ep) / double(p_.meta_batch);
        loss.backward();
        opt.step();
        sum += loss.item<double>();
        ++n;
        if (p_.log_every > 0 && step % p_.log_every == 0) {
            ctx.log("train_loss", sum / double(n), step);
            sum = 0;
            n = 0;
        }
    }
    before_outer_step(); // the zeroing trick zeroes the head before test-time adaptation too
    s.notify({EventKind::End, -1, p_.meta_steps}, learner);
}

} // namespace iclr
