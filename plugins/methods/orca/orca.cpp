// Method plugin `orca`: Cao, Brbic, Leskovec's ORCA for open-world semi-supervised learning, next
// to two baselines that cannot name novel classes themselves and so cluster: a supervised-only
// network and a FixMatch-style pseudo-labelling one, each followed by k-means on its features.
// Evaluates as ORCA's code does, on the unlabelled training data (seen accuracy directly; novel
// and all accuracy after Hungarian matching), and on a held-out test set (keys test_*).
#include "iclr/augment.hpp"
#include "iclr/pretrain.hpp"
#include "iclr/sdk.hpp"
#include "open_world_eval.hpp"
#include "orca_losses.hpp"

namespace {

namespace F = torch::nn::functional;

class Orca : public iclr::Method {
  public:
    static constexpr bool reads_pretrain = true; // its pretraining stage reads [pretrain]
    struct Params {
        iclr::String objective{"objective", "orca", "orca|supervised|fixmatch",
                               "orca: margin cross-entropy + pairwise + entropy terms, a head over all classes; "
                               "supervised: cross-entropy on the labelled examples only; fixmatch: plus confident "
                               "pseudo-labels of a weak view as targets for a strong view. Both baselines have a "
                               "seen-class head and predict by k-means on their features"};
        iclr::String margin{"margin", "adaptive", "adaptive|none",
                            "orca: adaptive = min(mean uncertainty of the unlabelled data, max_margin) each epoch "
                            "(the paper); none = plain cross-entropy (the ablation)"};
        iclr::Float max_margin{"max_margin", 0.5, 0.0, 10.0, "cap of the adaptive margin (official code: 0.5)"};
        iclr::Float scale{"scale", 10.0, 0.1, 1000.0, "cosine classifier's logit scale (official code: 10)"};
        iclr::Int epochs{"epochs", 20, 1, 100000, "passes over the labelled examples (the unlabelled ones cycle)"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate (official: SGD 0.1 on a pretrained ResNet)"};
        iclr::Int batch{"batch", 256, 4, 65536, "examples per step, labelled and unlabelled in their proportion"};
        iclr::Int shift{"shift", 3, 0, 14, "views: random shift of up to this many pixels (CIFAR's 4-pixel crop)"};
        iclr::Float threshold{"threshold", 0.95, 0.0, 1.0, "fixmatch: confidence above which a pseudo-label counts"};
        iclr::Float unlabelled_weight{"unlabelled_weight", 1.0, 0.0, 1000.0, "fixmatch: weight of its second term"};
        iclr::Int eval_every{"eval_every", 5, 1, 100000, "evaluate every N epochs (and at the end)"};
        // ORCA's code starts every method from a SimCLR backbone trained on the same images; here
        // pretrain_objective = vicreg on [pretrain] (cached per seed, shared by all arms) stands in.
        iclr::PretrainParams pretrain;
    };
    Orca(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        if (b.tasks.size() != 1 || !b.tasks[0].train.factors.count("labelled"))
            throw iclr::PluginError("orca needs an open-world data set (one task whose training split marks its "
                                    "labelled examples: open_world)");
        auto& ctx = s.ctx();
        const auto& train = b.tasks[0].train;
        seen_ = int64_t(b.tasks[0].classes.size());
        classes_ = b.num_classes;
        lab_ = torch::nonzero(train.factors.at("labelled") == 1).flatten();
        unl_ = torch::nonzero(train.factors.at("labelled") == 0).flatten();
        if (lab_.numel() == 0 || unl_.numel() == 0)
            throw iclr::PluginError("orca needs labelled and unlabelled training examples");
        refuse_label_leak(s);
        backbone_ = s.new_backbone();
        // The pretraining stage's optimiser: SGD, momentum 0.9, batch 256 (its learning rate and
        // objective are the pretrain_* parameters).
        iclr::Pretraining(p_.pretrain, iclr::ContinualParams(iclr::ContinualDefaults{0.01, 0.9, 256}))
            .run(s, backbone_);
        // Pretraining draws from torch's global generator only when the backbone is not cached yet;
        // reseed so that the head and everything after it do not depend on whether it was.
        torch::manual_seed(ctx.seed() ^ 0x0ca0ca);
        head_ = orca::NormedLinear(backbone_->feature_dim(), orca_() ? classes_ : seen_, p_.scale);
        head_->to(iclr::module_device(*backbone_)); // drawn on the CPU: the same weights on every device
        auto params = backbone_->parameters();
        for (auto& t : head_->parameters())
            params.push_back(t);
        torch::optim::Adam opt(params, torch::optim::AdamOptions(p_.lr));
        auto gen = iclr::make_generator(ctx.seed(), 11), view_gen = iclr::make_generator(ctx.seed(), 12);
        double black = train.x.min().item<double>(); // the background pixel, normalised
        auto weak = iclr::random_shift(p_.shift, black);
        auto strong = iclr::compose({iclr::random_affine(15.0, 0.15, 0.85, 1.15, 10.0), iclr::cutout(10, black)});
        int64_t nl = std::max<int64_t>(1, p_.batch * lab_.numel() / train.size()), nu = p_.batch - nl;
        int64_t steps = std::max<int64_t>(1, lab_.numel() / nl), step = 0;
        auto xl = train.x.index_select(0, lab_), yl = train.y.index_select(0, lab_), xu = train.x.index_select(0, unl_);
        auto uorder = torch::randperm(xu.size(0), gen);
        int64_t ucursor = 0;
        for (int64_t epoch = 1; epoch <= p_.epochs; ++epoch) {
            double margin = orca_() && std::string(p_.margin) == "adaptive"
                                ? std::min(uncertainty(xu), double(p_.max_margin))
                                : 0.0;
            ctx.log("margin", margin, epoch);
            backbone_->train();
            auto lorder = torch::randperm(xl.size(0), gen);
            double loss_sum = 0;
            for (int64_t k = 0; k < steps; ++k, ++step) {
                ctx.check_cancelled();
                auto li = lorder.slice(0, k * nl, (k + 1) * nl).to(xl.device()); // orders drawn on the CPU
                if (ucursor + nu > xu.size(0)) uorder = torch::randperm(xu.size(0), gen), ucursor = 0;
                auto ui = uorder.slice(0, ucursor, ucursor + nu).to(xu.device());
                ucursor += nu;
                auto bl = xl.index_select(0, li), by = yl.index_select(0, li), bu = xu.index_select(0, ui);
                torch::Tensor loss;
                if (orca_())
                    loss = orca_loss(torch::cat({bl, bu}), by, margin, weak, view_gen, gen);
                else if (std::string(p_.objective) == "fixmatch")
                    loss = fixmatch_loss(bl, by, bu, weak, strong, view_gen);
                else
                    loss = F::cross_entropy(head_(backbone_->forward(weak(bl, view_gen))), by);
                opt.zero_grad();
                loss.backward();
                opt.step();
                loss_sum += loss.item<double>();
            }
            ctx.log("loss", loss_sum / double(steps), epoch);
            if (epoch % p_.eval_every == 0 || epoch == p_.epochs) evaluate(b, ctx, epoch);
        }
    }

  private:
    // Supervised pretraining on the open-world set itself would train on every label, the
    // unlabelled and novel examples' included.
    void refuse_label_leak(iclr::Session& s) const {
        if (p_.pretrain.pretrain_epochs == 0 || p_.pretrain.pretrain_objective() != "supervised") return;
        const iclr::Benchmark* pb = s.pretrain_benchmark();
        if (pb && pb->name == s.benchmark().name)
            throw iclr::PluginError(
                "orca: supervised pretraining on the open-world data set itself would read the labels "
                "of its unlabelled and novel examples; use pretrain_objective = \"vicreg\" or "
                "another [pretrain] data set");
    }

    bool orca_() const { return std::string(p_.objective) == "orca"; }

    torch::Tensor orca_loss(const torch::Tensor& x, const torch::Tensor& y, double margin, const iclr::Augment& view,
                            torch::Generator& view_gen, torch::Generator& gen) {
        auto f1 = backbone_->forward(view(x, view_gen)), f2 = backbone_->forward(view(x, view_gen));
        auto out1 = head_(f1), out2 = head_(f2);
        auto p1 = out1.softmax(1), p2 = out2.softmax(1);
        auto partner = orca::partners(f1.detach(), y, gen);
        int64_t nl = y.size(0);
        return orca::margin_cross_entropy(out1.slice(0, 0, nl), y, margin, p_.scale) +
               orca::pair_loss(p1, p2, partner) - orca::mean_prediction_entropy(p1);
    }

    // FixMatch (Sohn et al. 2020): cross-entropy on weakly augmented labelled examples plus, on the
    // unlabelled ones, cross-entropy of the strong view against the weak view's confident argmax.
    torch::Tensor fixmatch_loss(const torch::Tensor& xl, const torch::Tensor& yl, const torch::Tensor& xu,
                                const iclr::Augment& weak, const iclr::Augment& strong, torch::Generator& g) {
        auto out = head_(backbone_->forward(torch::cat({weak(xl, g), weak(xu, g), strong(xu, g)})));
        int64_t nl = xl.size(0), nu = xu.size(0);
        auto weak_prob = out.slice(0, nl, nl + nu).detach().softmax(1);
        auto [conf, pseudo] = weak_prob.max(1);
        auto mask = conf.ge(double(p_.threshold)).to(out.dtype());
        auto unl =
            (F::cross_entropy(out.slice(0, nl + nu), pseudo, F::CrossEntropyFuncOptions().reduction(torch::kNone)) *
             mask)
                .mean();
        return F::cross_entropy(out.slice(0, 0, nl), yl) + double(p_.unlabelled_weight) * unl;
    }

    torch::Tensor features(const torch::Tensor& x) {
        torch::NoGradGuard ng;
        backbone_->eval();
        std::vector<torch::Tensor> out;
        for (int64_t i = 0; i < x.size(0); i += 512)
            out.push_back(backbone_->forward(x.slice(0, i, std::min(x.size(0), i + 512))));
        return torch::cat(out);
    }

    // 1 - the mean top softmax probability on the unlabelled examples (ORCA's mean uncertainty).
    double uncertainty(const torch::Tensor& xu) {
        torch::NoGradGuard ng;
        return 1.0 - std::get<0>(head_(features(xu)).softmax(1).max(1)).mean().item<double>();
    }

    // Predictions for the unlabelled training examples and the test set: ORCA's head, or the
    // baselines' k-means clusters labelled through the labelled examples.
    void evaluate(const iclr::Benchmark& b, iclr::RunContext& ctx, int64_t epoch) {
        torch::NoGradGuard ng;
        const auto& train = b.tasks[0].train;
        const auto& test = b.tasks[0].test;
        auto ftrain = features(train.x), ftest = features(test.x);
        auto yu = train.y.index_select(0, unl_);
        torch::Tensor pred_u, pred_test;
        if (orca_()) {
            pred_u = head_(ftrain.index_select(0, unl_)).argmax(1);
            pred_test = head_(ftest).argmax(1);
        } else {
            // k-means on the CPU, where its generator draws (the same clusters on every device).
            auto z = F::normalize(ftrain, F::NormalizeFuncOptions().dim(1)).cpu();
            auto gen = iclr::make_generator(ctx.seed(), 13 + uint64_t(epoch));
            auto km = orca::kmeans(z, classes_, gen);
            auto lab = lab_.cpu(), unl = unl_.cpu();
            auto label = orca::label_clusters(km.assign.index_select(0, lab), train.y.cpu().index_select(0, lab),
                                              classes_, seen_);
            pred_u = label.index_select(0, km.assign.index_select(0, unl));
            pred_test = label.index_select(
                0, orca::nearest(F::normalize(ftest, F::NormalizeFuncOptions().dim(1)).cpu(), km.centroids));
            auto seen_u = torch::nonzero(yu < seen_).flatten();
            auto head_pred = head_(ftrain.index_select(0, unl_).index_select(0, seen_u)).argmax(1);
            ctx.log("head_seen_accuracy",
                    head_pred.eq(yu.index_select(0, seen_u)).to(torch::kDouble).mean().item<double>(), epoch);
        }
        log_accuracies(ctx, "", pred_u, yu, epoch);
        log_accuracies(ctx, "test_", pred_test, test.y, epoch);
    }

    void log_accuracies(iclr::RunContext& ctx, const std::string& prefix, torch::Tensor pred, torch::Tensor y,
                        int64_t epoch) const {
        pred = pred.cpu(), y = y.cpu(); // the Hungarian matching reads them on the CPU
        auto seen = torch::nonzero(y < seen_).flatten(), novel = torch::nonzero(y >= seen_).flatten();
        ctx.log(prefix + "seen_accuracy",
                pred.index_select(0, seen).eq(y.index_select(0, seen)).to(torch::kDouble).mean().item<double>(), epoch);
        ctx.log(prefix + "novel_accuracy",
                orca::hungarian_accuracy(pred.index_select(0, novel), y.index_select(0, novel)), epoch);
        ctx.log(prefix + "all_accuracy", orca::hungarian_accuracy(pred, y), epoch);
    }

    Params p_;
    int64_t seen_ = 0, classes_ = 0;
    torch::Tensor lab_, unl_;
    std::shared_ptr<iclr::Backbone> backbone_;
    orca::NormedLinear head_{nullptr};
};

} // namespace

ICLR_PLUGIN(iclr::Method, Orca, "orca", "0.1.1",
            "Cao, Brbic, Leskovec. Open-World Semi-Supervised Learning. ICLR 2022.",
            "ORCA (uncertainty-adaptive margin, pairwise nearest-neighbour and entropy objectives) and two "
            "baselines that predict by k-means: supervised-only and FixMatch-style pseudo-labelling")
