// Metric plugin `acr`: augmentation overlap ("Chaos is a Ladder"). Views of a fixed set of test
// images; ACR = share whose nearest view is another image's; ARC = (1 - ACR_end) / (1 - ACR_start),
// with ACR_start measured when the method reports step 0 (before it trains) on the same views.
#include "iclr/acr.hpp"
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

class Acr : public iclr::Metric {
  public:
    struct Params {
        iclr::Int anchors{"anchors", 256, 2, 100000, "test images the views are made from"};
        iclr::Int views{"views", 8, 2, 1000, "augmented views per image"};
        iclr::Float crop_min_scale{"crop_min_scale", 0.5, 0.01, 1.0,
                                   "views: random resized crop area ~ U(s, 1); set it to the method's (zip the axes)"};
        iclr::Float noise{"noise", 0.1, 0.0, 10.0, "views: Gaussian noise sd added last (vicreg's default 0.1)"};
    };

    Acr(const Params& p, iclr::RunContext&) : p_(p) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind == iclr::EventKind::Step && e.step == 0) {
            start_ = measure(learner, b, ctx);
            ctx.log("acr_start", start_, e.step);
        }
        if (e.kind != iclr::EventKind::End) return;
        double end = measure(learner, b, ctx);
        ctx.log("acr", end, e.step);
        if (start_ >= 0) ctx.log("arc", iclr::augmentation_relative_confusion(start_, end), e.step);
    }

  private:
    // ACR of the learner on the views, made on first use (from fixed streams of the trial's seed)
    // and kept, so ACR_start and ACR_end see the same views and differ by the network only.
    double measure(iclr::Learner& learner, const iclr::Benchmark& b, iclr::RunContext& ctx) {
        if (!views_.defined()) make_views(b, ctx);
        int64_t task = int64_t(b.tasks.size()) - 1;
        return iclr::augmentation_confusion(iclr::eval_features(learner, views_, task), anchor_);
    }
    // `views` augmented views of each of `anchors` test images, and each view's image number.
    void make_views(const iclr::Benchmark& b, iclr::RunContext& ctx) {
        auto x = iclr::joined(b, &iclr::Task::test).x;
        auto pick = iclr::make_generator(ctx.seed(), 11), draw = iclr::make_generator(ctx.seed(), 12);
        auto images = x.index_select(0, torch::randperm(x.size(0), pick).slice(0, 0, p_.anchors).to(x.device()));
        std::vector<iclr::Augment> steps{iclr::random_resized_crop(p_.crop_min_scale, 1.0)};
        if (p_.noise > 0) steps.push_back(iclr::gaussian_noise(p_.noise));
        auto augment = iclr::compose(std::move(steps));
        std::vector<torch::Tensor> views, anchor;
        for (int64_t v = 0; v < p_.views; ++v) {
            views.push_back(augment(images, draw));
            anchor.push_back(torch::arange(images.size(0), x.options().dtype(torch::kInt64)));
        }
        views_ = torch::cat(views);
        anchor_ = torch::cat(anchor);
    }

    Params p_;
    double start_ = -1;
    torch::Tensor views_, anchor_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, Acr, "acr", "0.1.0",
            "Wang, Zhang, Wang, Lin. Chaos is a Ladder: A New Theoretical Understanding of Contrastive Learning via "
            "Augmentation Overlap. ICLR 2022.",
            "acr (share of augmented views whose nearest view is another image's) at the end; acr_start when the "
            "method reports step 0; arc = (1 - acr) / (1 - acr_start)")
