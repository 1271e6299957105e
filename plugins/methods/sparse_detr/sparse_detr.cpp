// Method plugin `sparse_detr`: Roh et al.'s Sparse DETR on digit canvases — a ViT encoder that
// refines only the tokens its scorer keeps (vit's `keep`), a DETR decoder with one query per digit,
// and the scorer trained to predict which tokens the decoder attends to (the DAM target).
#include "../common/canvas_objects.hpp"
#include "detr_decoder.hpp"

namespace {

class SparseDetr : public iclr::Method {
  public:
    struct Params {
        iclr::Int epochs{"epochs", 10, 1, 100000, "passes over the training canvases"};
        iclr::Int batch_size{"batch_size", 32, 2, 65536, "canvases per step"};
        iclr::String optimizer{"optimizer", "adamw", "adam|adamw",
                               "Adam, or AdamW with decoupled weight decay (Sparse DETR's optimiser)"};
        iclr::Float lr{"lr", 2e-3, 0.0, 10.0, "learning rate"};
        iclr::Int lr_drop{"lr_drop", 8, 0, 100000,
                          "the learning rate is divided by 10 from this epoch on (Deformable / Sparse DETR: 40 of 50 "
                          "epochs); 0 = never"};
        iclr::Float weight_decay{"weight_decay", 1e-4, 0.0, 1.0, "AdamW weight decay (Sparse DETR: 1e-4)"};
        iclr::Int decoder_depth{"decoder_depth", 2, 1, 12, "decoder layers (Sparse DETR: 6)"};
        iclr::Int heads{"heads", 4, 1, 64, "decoder attention heads (must divide the backbone's width)"};
        iclr::Float dam_weight{"dam_weight", 1.0, 0.0, 100.0,
                               "weight of the scorer's loss against the decoder attention map (Sparse DETR: 1); 0 "
                               "leaves the scorer at its initialisation (an untrained choice of tokens)"};
        iclr::Int log_every{"log_every", 50, 0, 1000000, "log the mean training losses every N steps (0 = never)"};
    };
    SparseDetr(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        int64_t slots = slots_of(b), cells = (b.input_shape[1] / 28) * (b.input_shape[2] / 28);
        auto& ctx = s.ctx();
        auto backbone = s.new_backbone();
        ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
        if (backbone->feature_dim() % p_.heads != 0)
            throw iclr::PluginError("heads = " + std::to_string(int64_t(p_.heads)) + " does not divide the width " +
                                    std::to_string(backbone->feature_dim()));
        torch::manual_seed(ctx.seed()); // the decoder starts the same whatever the backbone drew
        detr::Learner learner(backbone, p_.heads, p_.decoder_depth, slots, cells);
        auto opt = iclr::make_optimizer(p_.optimizer(), learner.trainable(), p_.lr, 0.0, p_.weight_decay);
        auto gen = iclr::make_generator(ctx.seed());
        int64_t step = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            const auto& train = b.tasks[t].train;
            auto targets = canvas::objects(train, slots);
            // Batches of example indices, so each batch's digits and cells come with it.
            iclr::Split index{train.x, torch::arange(train.size(), targets.first.options().dtype(torch::kLong))};
            learner.backbone().train(true);
            for (int64_t e = 0; e < p_.epochs; ++e) {
                if (p_.lr_drop > 0 && e == p_.lr_drop)
                    for (auto& group : opt->param_groups())
                        group.options().set_lr(group.options().get_lr() / 10);
                for (const iclr::Batch& batch : iclr::Batches(index, p_.batch_size, gen, &ctx))
                    train_step(learner, *opt, batch.x, targets.first.index_select(0, batch.y),
                               targets.second.index_select(0, batch.y), ++step, int64_t(t), ctx);
            }
            s.notify({iclr::EventKind::TaskEnd, int64_t(t), step}, learner);
        }
        evaluate(learner, b.tasks.back().test, step, ctx);
        s.notify({iclr::EventKind::End, int64_t(b.tasks.size()) - 1, step}, learner);
    }

  private:
    // The label's number of digits: the data set's classes are every string of them (digit_canvases).
    static int64_t slots_of(const iclr::Benchmark& b) {
        int64_t k = b.tasks.empty() ? 0 : canvas::count(b.tasks[0].train);
        if (k >= 1 && k <= 4 && b.num_classes == int64_t(std::llround(std::pow(10.0, double(k))))) return k;
        throw iclr::PluginError("sparse_detr needs canvases of several digits with their cells (digit_canvases)");
    }

    // DETR's matched digit + cell loss, plus the scorer's binary cross-entropy against the top of
    // the decoder's attention map when the encoder keeps a share of its tokens.
    void train_step(detr::Learner& learner, torch::optim::Optimizer& opt, const torch::Tensor& x,
                    const torch::Tensor& digits, const torch::Tensor& cells, int64_t step, int64_t task,
                    iclr::RunContext& ctx) {
        auto reading = learner.read(x);
        auto set_loss = detr::matched_loss(reading, digits, cells);
        auto total = set_loss;
        auto in = learner.backbone().internals();
        if (in.count("token_scores")) { // computed with dam_weight = 0 too, to log how far off it stays
            auto bce = torch::nn::functional::binary_cross_entropy_with_logits(
                in.at("token_scores"), detr::dam_target(reading.dam, in.at("kept_tokens").size(1)));
            if (p_.dam_weight > 0) total = total + double(p_.dam_weight) * bce;
            dam_sum_ += bce.item<double>();
        }
        opt.zero_grad();
        total.backward();
        opt.step();
        loss_sum_ += set_loss.item<double>();
        if (p_.log_every > 0 && step % p_.log_every == 0) {
            ctx.log("train_loss", loss_sum_ / double(p_.log_every), step, task);
            if (in.count("token_scores")) ctx.log("dam_loss", dam_sum_ / double(p_.log_every), step, task);
            loss_sum_ = dam_sum_ = 0;
        }
    }

    // What the paper reports next to accuracy: the encoder's cost; here also the share of canvases
    // read right (every digit, in order), of digits read right, and how much of the decoder's
    // attention falls on the tokens the encoder kept (util/dam.py's compute_corr).
    static void evaluate(detr::Learner& learner, const iclr::Split& test, int64_t step, iclr::RunContext& ctx) {
        torch::NoGradGuard ng;
        learner.backbone().eval();
        double exact = 0, right = 0, captured = 0;
        bool sparse = false;
        for (int64_t i = 0; i < test.size(); i += 500) {
            int64_t j = std::min(test.size(), i + 500);
            auto reading = learner.read(test.x.slice(0, i, j));
            auto hit = detr::Learner::ordered_digits(reading).argmax(-1).eq(
                detr::digits_of(test.y.slice(0, i, j), learner.slots()));
            exact += hit.all(1).sum().item<double>();
            right += hit.sum().item<double>();
            auto in = learner.backbone().internals();
            if (in.count("kept_tokens")) { // the official code's "corr": DAM mass on the kept tokens
                captured +=
                    (reading.dam.gather(1, in.at("kept_tokens")).sum(1) / reading.dam.sum(1)).sum().item<double>();
                sparse = true;
            }
            if (i == 0) ctx.log("encoder_flops", in.at("encoder_flops").item<double>(), step);
        }
        ctx.log("exact_match", exact / double(test.size()), step);
        ctx.log("digit_accuracy", right / double(test.size() * learner.slots()), step);
        if (sparse) ctx.log("dam_captured", captured / double(test.size()), step);
        learner.backbone().train(true);
    }

    const Params p_;
    double loss_sum_ = 0, dam_sum_ = 0;
};

} // namespace

ICLR_PLUGIN(iclr::Method, SparseDetr, "sparse_detr", "0.1.0",
            "Roh, Shin, Shin, Kim. Sparse DETR: Efficient End-to-End Object Detection with Learnable Sparsity. ICLR "
            "2022.",
            "a ViT encoder refining only the tokens a scorer keeps (vit keep = rho), a DETR decoder with one query "
            "per digit slot, the scorer trained against the decoder's cross-attention map (DAM)")
