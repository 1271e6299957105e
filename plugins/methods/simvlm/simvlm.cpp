// Method plugin `simvlm`: Wang et al.'s SimVLM objective on digit canvases — one transformer over
// image patches and a template caption, trained as a prefix language model (PrefixLM: bidirectional
// over the image and a random text prefix, the rest generated) or as a plain causal language model;
// evaluated by captioning held-out canvases and by zero-shot classification through caption scores.
#include "../common/canvas_objects.hpp"
#include "prefix_lm.hpp"

namespace {

// A captioner as metrics see it: features are the image's; it has no class logits.
class CaptionLearner : public iclr::Learner {
  public:
    explicit CaptionLearner(std::shared_ptr<simvlm::Net> net) : net_(std::move(net)) {}
    iclr::Backbone& backbone() override { return *net_; }
    torch::Tensor logits(const torch::Tensor&, int64_t) override {
        throw iclr::PluginError("simvlm trains a captioner, not a classifier: read its exact_match, token_accuracy "
                                "and zero_shot_accuracy");
    }
    std::vector<torch::Tensor> trainable() override { return net_->parameters(); }

  private:
    std::shared_ptr<simvlm::Net> net_;
};

class SimVlm : public iclr::Method {
  public:
    struct Params {
        iclr::String objective{"objective", "prefixlm", "prefixlm|lm",
                               "prefixlm: bidirectional over the image and a random caption prefix, the rest "
                               "generated (SimVLM); lm: causal over the whole sequence, image included"};
        iclr::Bool text_prefix{"text_prefix", true,
                               "prefixlm: the prefix is the image and a random share of the caption (SimVLM: T_p >= "
                               "T_i, the rest of the text generated); false: the image alone"};
        iclr::Int width{"width", 64, 8, 1024, "model width"};
        iclr::Int depth{"depth", 3, 1, 24, "transformer blocks"};
        iclr::Int heads{"heads", 4, 1, 64, "attention heads (must divide width)"};
        iclr::Int patch{"patch", 14, 1, 84, "image patch side (must divide the canvas)"};
        iclr::Int epochs{"epochs", 20, 1, 100000, "passes over the training canvases"};
        iclr::Int batch_size{"batch_size", 32, 2, 65536, "canvases per step"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "AdamW learning rate"};
        iclr::Float weight_decay{"weight_decay", 0.01, 0.0, 1.0, "AdamW weight decay (SimVLM: 0.01)"};
        iclr::Int zero_shot_canvases{"zero_shot_canvases", 300, 1, 100000,
                                     "test canvases scored for zero-shot classification (10 candidate captions per "
                                     "digit of each)"};
        iclr::Int log_every{"log_every", 50, 0, 1000000, "log the mean training loss every N steps (0 = never)"};
    };
    // What the parameters alone decide is refused here, so that `iclr plan` finds it (its
    // constructor check) instead of every trial failing; what needs the data set is in check().
    SimVlm(const Params& p, iclr::RunContext&)
        : p_(p), prefix_lm_(std::string(p.objective()) == "prefixlm"), text_prefix_(prefix_lm_ && p.text_prefix) {
        if (84 % p_.patch != 0)
            throw iclr::PluginError("patch " + std::to_string(int64_t(p_.patch)) + " does not divide 84");
        if (p_.width % p_.heads != 0) throw iclr::PluginError("heads must divide width");
    }

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        auto& ctx = s.ctx();
        check(b);
        const auto& train = b.tasks[0].train;
        int64_t k = canvas::count(train), text = 2 * k + 1;
        auto net = std::make_shared<simvlm::Net>(b.input_shape, p_.patch, p_.width, p_.depth, p_.heads, text);
        net->to(train.x.device()); // drawn on the CPU: the same weights on every device
        ctx.set_attribute("param_count", std::to_string(net->param_count()));
        CaptionLearner learner(net);
        auto opt = iclr::make_optimizer("adamw", net->parameters(), p_.lr, 0.0, p_.weight_decay);
        auto caps = caption_of(train, k);
        iclr::Split index{train.x, torch::arange(train.size(), caps.options().dtype(torch::kLong))};
        auto gen = iclr::make_generator(ctx.seed()), prefix_gen = iclr::make_generator(ctx.seed(), 3);
        int64_t step = 0;
        double sum = 0;
        net->train();
        for (int64_t e = 0; e < p_.epochs; ++e)
            for (const iclr::Batch& batch : iclr::Batches(index, p_.batch_size, gen, &ctx)) {
                auto loss = batch_loss(*net, batch.x, caps.index_select(0, batch.y), prefix_gen);
                opt->zero_grad();
                loss.backward();
                opt->step();
                sum += loss.item<double>();
                if (p_.log_every > 0 && ++step % p_.log_every == 0) {
                    ctx.log("train_loss", sum / double(p_.log_every), step);
                    sum = 0;
                }
            }
        s.notify({iclr::EventKind::TaskEnd, 0, step}, learner);
        evaluate(*net, b.tasks[0].test, k, step, ctx);
        s.notify({iclr::EventKind::End, 0, step}, learner);
    }

  private:
    void check(const iclr::Benchmark& b) const {
        if (b.tasks.size() != 1 || !b.tasks[0].train.factors.count("cell0") || b.input_shape.size() != 3 ||
            b.input_shape[1] != 84 || b.input_shape[2] != 84)
            throw iclr::PluginError("simvlm captions digits on a 3 x 3 grid: it needs digit_canvases with grid = 3");
    }
    static torch::Tensor caption_of(const iclr::Split& s, int64_t k) {
        auto [digits, cells] = canvas::objects(s, k);
        return simvlm::captions(digits, cells);
    }

    // PrefixLM: each caption gets a text prefix length drawn uniformly from 0..T (T caption tokens;
    // the end token is always generated), or none with text_prefix = false; LM: no prefix at all.
    torch::Tensor batch_loss(simvlm::Net& net, const torch::Tensor& x, const torch::Tensor& caps, torch::Generator& g) {
        int64_t n = caps.size(0), t = caps.size(1);
        auto prefix = text_prefix_
                          ? torch::randint(0, t + 1, {n}, g, torch::kLong) // on the CPU: the same draws anywhere
                          : torch::zeros({n}, torch::kLong);
        prefix = prefix.to(caps.device());
        return simvlm::generated_loss(net, x, caps, prefix, prefix_lm_);
    }

    // Captioning from the image alone (the prefix is the image): teacher-forced token accuracy,
    // greedy captions that are exactly right, and zero-shot digit classification — each digit word
    // of the true caption replaced by each of the ten, the most likely caption's digit taken.
    void evaluate(simvlm::Net& net, const iclr::Split& test, int64_t k, int64_t step, iclr::RunContext& ctx) const {
        torch::NoGradGuard ng;
        net.eval();
        auto caps = caption_of(test, k);
        int64_t n = test.size(), t = caps.size(1);
        double tokens = 0, exact = 0;
        for (int64_t i = 0; i < n; i += 500) {
            int64_t j = std::min(n, i + 500);
            auto x = test.x.slice(0, i, j);
            auto c = caps.slice(0, i, j);
            auto text_in = simvlm::teacher_forced(c).first;
            auto logits = simvlm::caption_logits(net, x, text_in, torch::zeros({j - i}, c.options()), prefix_lm_);
            tokens += logits.slice(1, 0, t).argmax(-1).eq(c).sum().item<double>();
            exact += greedy(net, x, t).eq(c).all(1).sum().item<double>();
        }
        ctx.log("token_accuracy", tokens / double(n * t), step);
        ctx.log("exact_match", exact / double(n), step);
        ctx.log("zero_shot_accuracy", zero_shot(net, test.x, caps, k), step);
        net.train();
    }
    // t tokens decoded greedily after BOS, each from the image and the tokens before it.
    torch::Tensor greedy(simvlm::Net& net, const torch::Tensor& x, int64_t t) const {
        int64_t n = x.size(0);
        auto o = x.options().dtype(torch::kLong);
        auto text_in = torch::full({n, 1}, simvlm::kBos, o);
        for (int64_t s = 0; s < t; ++s) {
            auto logits = simvlm::caption_logits(net, x, text_in, torch::zeros({n}, o), prefix_lm_);
            auto next = logits.select(1, s).argmax(-1, true);
            text_in = torch::cat({text_in, next}, 1);
        }
        return text_in.slice(1, 1);
    }
    double zero_shot(simvlm::Net& net, const torch::Tensor& xs, const torch::Tensor& caps, int64_t k) const {
        int64_t n = std::min<int64_t>(p_.zero_shot_canvases, xs.size(0));
        double right = 0;
        for (int64_t i = 0; i < n; ++i) {
            auto x = xs.slice(0, i, i + 1).expand({10 * k, -1, -1, -1});
            auto cand = caps.slice(0, i, i + 1).repeat({10 * k, 1});
            for (int64_t s = 0; s < k; ++s)
                cand.slice(0, 10 * s, 10 * s + 10).select(1, 2 * s).copy_(torch::arange(10, cand.options()));
            auto score = simvlm::caption_log_likelihood(net, x, cand, prefix_lm_).view({k, 10});
            for (int64_t s = 0; s < k; ++s)
                right += double(score[s].argmax().item<int64_t>() == caps[i][2 * s].item<int64_t>());
        }
        return right / double(n * k);
    }

    const Params p_;
    bool prefix_lm_, text_prefix_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, SimVlm, "simvlm", "0.1.0",
            "Wang, Yu, Yu, Dai, Tsvetkov, Cao. SimVLM: Simple Visual Language Model Pretraining with Weak "
            "Supervision. ICLR 2022.",
            "one transformer over image patches and a template caption of digit canvases, trained with the "
            "prefix-LM objective (bidirectional prefix) or a plain causal LM; captioning and zero-shot scores")
