// Metric plugin `spectral_complexity`: the data-dependent factor of spectrally-normalised margin
// bounds (Bartlett, Foster, Telgarsky 2017), the form Guan & Lu's representation-learning bounds
// take: the backbone's spectral complexity R over its nearest-prototype margin on meta-training
// episodes. The bound is R / (margin sqrt(examples)) up to constants and log factors.
#include <limits>

#include "../common/episode_accuracy.hpp"

namespace {

// A layer's two norms: sigma, its Lipschitz constant (largest singular value), and the sum of the
// 2-norms of its rows (Bartlett et al.'s ||A^T||_{2,1} with reference matrix 0).
struct LayerNorms {
    double sigma = 0, rows21 = 0;
};

// A stride-1 convolution's largest singular value on the infinite plane is the sup over frequencies
// of the largest singular value of the kernel's Fourier transform (Sedghi, Gupta, Long, ICLR 2019),
// sampled here on a grid x grid torus; zero padding, striding and cropping can only lower it.
LayerNorms conv_norms(const torch::Tensor& w, int64_t grid) {
    if (grid < w.size(2) || grid < w.size(3))
        throw iclr::PluginError("spectral_complexity: grid smaller than a kernel");
    auto symbol = torch::fft::fft2(w.to(torch::kDouble), std::vector<int64_t>{grid, grid}); // [out, in, g, g]
    auto sv = torch::linalg_svdvals(symbol.permute({2, 3, 0, 1}));                          // [g, g, min(out, in)]
    return {sv.max().item<double>(), w.flatten(1).to(torch::kDouble).norm(2, 1).sum().item<double>()};
}

LayerNorms linear_norms(const torch::Tensor& w) {
    auto wd = w.to(torch::kDouble);
    return {torch::linalg_svdvals(wd).max().item<double>(), wd.norm(2, 1).sum().item<double>()};
}

// Every parameterised layer of the backbone; parameter-free ones (ReLU, max-pooling) are
// 1-Lipschitz and global average pooling a fixed factor, so they do not enter.
std::vector<LayerNorms> layer_norms(torch::nn::Module& backbone, int64_t grid) {
    std::vector<LayerNorms> out;
    for (const auto& m : backbone.modules(/*include_self=*/true)) {
        if (m->parameters(/*recurse=*/false).empty()) continue;
        if (auto* conv = m->as<torch::nn::Conv2dImpl>()) {
            if (conv->options.groups() != 1) throw iclr::PluginError("spectral_complexity: grouped convolutions");
            out.push_back(conv_norms(conv->weight.detach(), grid));
        } else if (auto* lin = m->as<torch::nn::LinearImpl>()) {
            out.push_back(linear_norms(lin->weight.detach()));
        } else {
            throw iclr::PluginError("spectral_complexity: no spectral norm for layer '" + m->name() +
                                    "' (conv2d and linear layers only)");
        }
    }
    if (out.empty()) throw iclr::PluginError("spectral_complexity: the backbone has no conv2d or linear layer");
    return out;
}

// Nearest-prototype margins of every query of `episodes` episodes of `split`: the distance to the
// nearest wrong prototype minus that to the query's own (negative when misclassified).
torch::Tensor prototype_margins(iclr::Backbone& net, iclr::EpisodeSampler& sampler, const std::string& split,
                                uint64_t seed, int64_t episodes, iclr::RunContext& ctx) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> margins;
    for (int64_t i = 0; i < episodes; ++i) {
        ctx.check_cancelled();
        iclr::Episode ep = iclr::episode_at(sampler, split, seed, uint64_t(i));
        auto logits = iclr::prototype_logits(net.forward(ep.support.x), ep.support.y, net.forward(ep.query.x), ep.ways);
        auto d = (-logits).clamp_min(0).sqrt().to(torch::kDouble);
        auto y = ep.query.y.unsqueeze(1);
        auto own = d.gather(1, y).squeeze(1);
        auto other = d.scatter(1, y, std::numeric_limits<double>::infinity()).amin(1);
        margins.push_back(other - own);
    }
    return torch::cat(margins);
}

class SpectralComplexity : public iclr::Metric {
  public:
    struct Params {
        iclr::Int episodes{"episodes", 100, 1, 100000, "meta-training episodes whose query margins are measured"};
        iclr::String split{"split", "train", "train|val|test",
                           "the episodes' tasks: the bound's are the training ones"};
        iclr::Float margin_quantile{"margin_quantile", 0.1, 0.0, 1.0,
                                    "the margin gamma is this quantile of the query margins (Jiang et al., ICLR 2020, "
                                    "Fantastic Generalization Measures: the 10th percentile)"};
        iclr::Int grid{"grid", 32, 3, 512, "Fourier grid on which a convolution's singular values are sampled"};
        iclr::Int episode_seed{"episode_seed", 0, 0, 1000000, "seed of the episodes"};
    };
    SpectralComplexity(const Params& p, iclr::RunContext&)
        : episodes_(p.episodes), split_(p.split()), quantile_(p.margin_quantile), grid_(p.grid),
          seed_(uint64_t(int64_t(p.episode_seed))) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::End) return;
        auto& episodes = iclr_metrics::episodes_of("spectral_complexity", b);
        auto& net = learner.backbone();
        // R = prod sigma_i * (sum (rows21_i / sigma_i)^(2/3))^(3/2), Bartlett et al.'s Theorem 1.1.
        double product = 1, sum = 0;
        for (const auto& l : layer_norms(net, grid_)) {
            product *= l.sigma;
            sum += std::pow(l.rows21 / l.sigma, 2.0 / 3.0);
        }
        double complexity = product * std::pow(sum, 1.5);
        bool was_training = net.is_training();
        net.eval();
        auto margins = prototype_margins(net, episodes, split_, seed_, episodes_, ctx);
        net.train(was_training);
        double gamma = torch::quantile(margins, quantile_).item<double>();
        ctx.log("spectral_product", product, e.step);
        ctx.log("spectral_complexity", complexity, e.step);
        ctx.log("prototype_margin", gamma, e.step);
        // With gamma <= 0 more than the quantile of training queries are misclassified: the bound
        // at that margin says nothing, and no ratio is recorded.
        if (gamma > 0) ctx.log("spectral_margin_ratio", complexity / gamma, e.step);
    }

  private:
    int64_t episodes_;
    std::string split_;
    double quantile_;
    int64_t grid_;
    uint64_t seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, SpectralComplexity, "spectral_complexity", "0.1.0",
            "Bartlett, Foster, Telgarsky. Spectrally-normalized margin bounds for neural networks. NeurIPS 2017. "
            "Sedghi, Gupta, Long. The Singular Values of Convolutional Layers. ICLR 2019. Used by Guan, Lu. Task "
            "Relatedness-Based Generalization Bounds for Meta Learning. ICLR 2022.",
            "spectral_product (prod of layer spectral norms), spectral_complexity R, prototype_margin (a quantile of "
            "nearest-prototype margins on training episodes) and spectral_margin_ratio R / margin")
