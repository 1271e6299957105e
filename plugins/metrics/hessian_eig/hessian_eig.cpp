// Metric plugin `hessian_eig`: the loss surface's curvature on fixed training batches — the
// largest and smallest Hessian eigenvalues (Lanczos on double-backward products, signed)
// and Hutchinson's trace, per batch and averaged, at the end of a run and at any Step event.
#include "iclr/hessian.hpp"
#include "iclr/sdk.hpp"

namespace {

class HessianEig : public iclr::Metric {
  public:
    struct Params {
        iclr::Int batches{"batches", 2, 1, 1000, "fixed training batches, each its own Hessian"};
        iclr::Int batch_size{"batch_size", 128, 1, 65536, "images per batch"};
        iclr::Float tol{"tol", 1e-3, 1e-12, 1.0,
                        "stop when both extreme eigenvalues move by less than tol x the spectral radius (twice)"};
        iclr::Int max_iter{"max_iter", 100, 1, 100000, "Lanczos steps at most (Hessian-vector products per batch)"};
        iclr::Int trace_samples{"trace_samples", 10, 0, 100000, "Rademacher vectors for the trace (0 = none)"};
    };

    HessianEig(const Params& p, iclr::RunContext&) : p_(p) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::TaskEnd) return; // End (and any Step) measure
        int64_t task = std::max<int64_t>(0, e.task);
        const auto& train = b.tasks.at(size_t(task)).train;
        auto pick = iclr::make_generator(ctx.seed(), 13), draw = iclr::make_generator(ctx.seed(), 14);
        auto order = torch::randperm(train.size(), pick).to(train.x.device()); // drawn on the CPU
        bool was_training = learner.backbone().is_training();
        learner.backbone().eval(); // fixed BatchNorm statistics: the loss is a function of the weights
        double max_sum = 0, min_sum = 0, trace_sum = 0, neg_sum = 0;
        int64_t k = 0; // batches measured: fewer than `batches` when the split runs out
        for (; k < p_.batches; ++k) {
            auto idx = order.slice(0, k * p_.batch_size, std::min(train.size(), (k + 1) * p_.batch_size));
            if (idx.numel() == 0) break;
            iclr::HessianOperator h(learner.loss(train.x.index_select(0, idx), train.y.index_select(0, idx), e.task),
                                    learner.trainable());
            auto x = iclr::hessian_extremes(h, p_.tol, p_.max_iter, draw);
            ctx.log("hessian_max_eig_batch", x.max_eig, e.step, k);
            ctx.log("hessian_min_eig_batch", x.min_eig, e.step, k);
            max_sum += x.max_eig;
            min_sum += x.min_eig;
            neg_sum += std::max(0.0, -x.min_eig) / std::abs(x.max_eig);
            if (p_.trace_samples > 0) trace_sum += iclr::hutchinson_trace(h, p_.trace_samples, draw);
        }
        learner.backbone().train(was_training);
        double n = double(k);
        ctx.log("hessian_max_eig", max_sum / n, e.step);
        ctx.log("hessian_min_eig", min_sum / n, e.step);
        ctx.log("hessian_negative_ratio", neg_sum / n, e.step);
        if (p_.trace_samples > 0) ctx.log("hessian_trace", trace_sum / n, e.step);
    }

  private:
    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, HessianEig, "hessian_eig", "0.2.1",
            "Lanczos on Hessian-vector products (Pearlmutter 1994; PyHessian, Yao et al. 2020); Hutchinson 1989. Used "
            "by Chen et al. (ViT + SAM) and Park & Kim (How do ViTs work), ICLR 2022.",
            "at End and at Step events: hessian_max_eig, hessian_min_eig (signed), hessian_negative_ratio "
            "(|min| / max when min < 0), hessian_trace, averaged over fixed training batches; per batch as "
            "hessian_*_eig_batch (task = batch)")
