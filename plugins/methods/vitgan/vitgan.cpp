// Method plugin `vitgan`: Lee et al.'s question at MNIST scale — does a GAN with a ViT discriminator
// train stably, and better, with ViTGAN's two stabilisers (improved spectral normalisation, L2
// attention with tied query/key) than without? Logs the losses, whether the run collapsed, a
// Lipschitz estimate of the discriminator and a Fréchet distance in a cached classifier's features.
#include "stabilisers.hpp"

namespace {

constexpr double kMean = 0.1307, kSd = 0.3081; // MNIST's: the data set's images back to [0, 1]

// The feature space of the Fréchet distance: a small CNN classifier trained on the data set's
// training images once per data-set content (cached like a pretrained backbone).
class FeatureNet : public iclr::Backbone {
  public:
    FeatureNet()
        : c1_(register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)))),
          c2_(register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)))),
          fc_(register_module("fc", torch::nn::Linear(64 * 7 * 7, 64))),
          out_(register_module("out", torch::nn::Linear(64, 10))) {}
    // images in [-1, 1] -> 64 features (the penultimate layer).
    torch::Tensor forward(const torch::Tensor& x) override {
        auto h = torch::max_pool2d(torch::relu(c1_(x)), 2);
        h = torch::max_pool2d(torch::relu(c2_(h)), 2);
        return torch::relu(fc_(h.flatten(1)));
    }
    torch::Tensor logits(const torch::Tensor& x) { return out_(forward(x)); }
    int64_t feature_dim() const override { return 64; }

  private:
    torch::nn::Conv2d c1_, c2_;
    torch::nn::Linear fc_, out_;
};

class VitGan : public iclr::Method {
  public:
    struct Params {
        iclr::String spectral_norm{"spectral_norm", "isn", "none|sn|isn",
                                   "discriminator's linear layers: none; sn: W / sigma(W) (Miyato et al.); isn: W * "
                                   "sigma(W_init) / sigma(W) (ViTGAN)"};
        iclr::String attention{"attention", "l2", "dot|l2",
                               "discriminator attention: dot product, or L2 distance with tied query/key (ViTGAN)"};
        iclr::Int width{"width", 64, 8, 1024, "discriminator width"};
        iclr::Int depth{"depth", 2, 1, 24, "discriminator blocks"};
        iclr::Int heads{"heads", 4, 1, 64, "discriminator heads (must divide width)"};
        iclr::Int patch{"patch", 7, 1, 28, "discriminator patch side (must divide 28)"};
        iclr::Int z_dim{"z_dim", 64, 1, 4096, "generator's noise dimension"};
        iclr::Int steps{"steps", 2000, 1, 10000000, "discriminator + generator updates"};
        iclr::Int batch_size{"batch_size", 64, 2, 65536, "real (and generated) images per step"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate of both networks (betas 0, 0.99 as ViTGAN)"};
        iclr::Float collapse_loss{"collapse_loss", 0.01, 0.0, 100.0,
                                  "a logged discriminator loss below this counts as a collapse (D wins outright)"};
        iclr::Float explode_loss{"explode_loss", 10.0, 0.0, 1e9,
                                 "a logged generator loss above this counts as a collapse (G's loss explodes)"};
        iclr::Int fd_images{"fd_images", 2000, 10, 100000, "images per side of the Fréchet distance"};
        iclr::Int log_every{"log_every", 50, 1, 1000000, "log the mean losses every N steps (and check collapse)"};
    };
    VitGan(const Params& p, iclr::RunContext&) : p_(p) {
        if (28 % p_.patch != 0)
            throw iclr::PluginError("patch " + std::to_string(int64_t(p_.patch)) + " does not divide 28");
        if (p_.width % p_.heads != 0) throw iclr::PluginError("heads must divide width");
    }

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        auto& ctx = s.ctx();
        if (b.input_shape != std::vector<int64_t>{1, 28, 28} || b.name != "mnist" || b.tasks.empty())
            throw iclr::PluginError("vitgan generates MNIST digits: it needs the mnist data set");
        auto real = unit(b.tasks[0].train.x), test = unit(b.tasks[0].test.x);
        auto features = feature_net(s, real, b.tasks[0].train.y);
        torch::manual_seed(ctx.seed());
        vitgan::Discriminator d(p_.patch, p_.width, p_.depth, p_.heads, std::string(p_.attention()) == "l2",
                                vitgan::norm_of(p_.spectral_norm()));
        vitgan::Generator g(p_.z_dim);
        device_ = real.device(); // the networks and the noise are drawn on the CPU: the same on every device
        d->to(device_);
        g->to(device_);
        int64_t count = 0;
        for (const auto& t : d->parameters())
            count += t.numel();
        ctx.set_attribute("param_count", std::to_string(count));
        auto adam = [&](torch::nn::Module& m) {
            return torch::optim::Adam(m.parameters(), torch::optim::AdamOptions(p_.lr).betas({0.0, 0.99}));
        };
        auto opt_d = adam(*d), opt_g = adam(*g);
        auto gen = iclr::make_generator(ctx.seed(), 5);
        double d_sum = 0, g_sum = 0;
        int64_t collapsed_at = -1;
        for (int64_t step = 1; step <= p_.steps; ++step) {
            ctx.check_cancelled();
            auto x = real.index_select(
                0, torch::randint(0, real.size(0), {int64_t(p_.batch_size)}, gen, torch::kLong).to(device_));
            auto fake = g(noise(gen));
            // Non-saturating logistic loss (Goodfellow et al.; ViTGAN's).
            auto d_loss = torch::softplus(-d(x)).mean() + torch::softplus(d(fake.detach())).mean();
            opt_d.zero_grad();
            d_loss.backward();
            opt_d.step();
            auto g_loss = torch::softplus(-d(g(noise(gen)))).mean();
            opt_g.zero_grad();
            g_loss.backward();
            opt_g.step();
            d_sum += d_loss.item<double>(), g_sum += g_loss.item<double>();
            if (step % p_.log_every == 0) {
                double dl = d_sum / double(p_.log_every), gl = g_sum / double(p_.log_every);
                ctx.log("d_loss", dl, step);
                ctx.log("g_loss", gl, step);
                if (collapsed_at < 0 && (dl < p_.collapse_loss || gl > p_.explode_loss || !std::isfinite(dl + gl)))
                    collapsed_at = step;
                d_sum = g_sum = 0;
            }
        }
        ctx.log("collapsed", collapsed_at > 0 ? 1.0 : 0.0, p_.steps);
        if (collapsed_at > 0) ctx.log("collapse_step", double(collapsed_at), p_.steps);
        evaluate(d, g, test, *features, gen, ctx);
    }

  private:
    // The data set's normalised images back to [-1, 1], the generator's range.
    static torch::Tensor unit(const torch::Tensor& x) { return (x * kSd + kMean) * 2 - 1; }
    torch::Tensor noise(torch::Generator& gen) const {
        return torch::randn({int64_t(p_.batch_size), int64_t(p_.z_dim)}, gen).to(device_);
    }

    std::shared_ptr<FeatureNet> feature_net(iclr::Session& s, const torch::Tensor& real, const torch::Tensor& y) {
        auto net = std::make_shared<FeatureNet>();
        net->to(real.device()); // a cached classifier is loaded onto the module's device
        auto key = iclr::ContentKey("vitgan feature classifier v1").add("dataset", s.config_text("dataset")).hex();
        iclr::BackboneCache::load_or_build(s.ctx(), key, *net, [&] {
            torch::manual_seed(0); // one classifier for every trial of the data set, whatever its seed
            for (auto& p : net->parameters())
                if (p.dim() > 1) { // drawn on the CPU: the same classifier on every device
                    auto w = torch::empty(p.sizes());
                    torch::nn::init::kaiming_uniform_(w, std::sqrt(5.0));
                    torch::NoGradGuard ng;
                    p.copy_(w);
                }
            auto opt = torch::optim::Adam(net->parameters(), torch::optim::AdamOptions(1e-3));
            auto gen = iclr::make_generator(0, 7);
            iclr::Split data{real, y};
            for (int e = 0; e < 3; ++e)
                for (const auto& batch : iclr::Batches(data, 128, gen, &s.ctx())) {
                    auto loss = torch::nn::functional::cross_entropy(net->logits(batch.x), batch.y);
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                }
        });
        net->eval();
        return net;
    }

    // At the end: the Fréchet distance between test images and generated ones in the classifier's
    // features, and the discriminator's gradient norm on interpolates between them (a Lipschitz
    // estimate, as WGAN-GP's penalty samples it): mean and max over fd_images points.
    void evaluate(vitgan::Discriminator& d, vitgan::Generator& g, const torch::Tensor& test, FeatureNet& features,
                  torch::Generator& gen, iclr::RunContext& ctx) const {
        g->eval();
        d->eval();
        int64_t n = std::min<int64_t>(p_.fd_images, test.size(0));
        torch::Tensor fake;
        {
            torch::NoGradGuard ng;
            fake = g(torch::randn({n, int64_t(p_.z_dim)}, gen).to(device_));
            ctx.log("frechet_distance",
                    vitgan::frechet_distance(features.forward(test.slice(0, 0, n)), features.forward(fake)), p_.steps);
        }
        auto eps = torch::rand({n, 1, 1, 1}, gen).to(device_);
        auto mid = (eps * test.slice(0, 0, n) + (1 - eps) * fake).requires_grad_(true);
        auto grad = torch::autograd::grad({d(mid).sum()}, {mid})[0].flatten(1).norm(2, 1);
        ctx.log("d_grad_norm_mean", grad.mean().item<double>(), p_.steps);
        ctx.log("d_grad_norm_max", grad.max().item<double>(), p_.steps);
    }

    const Params p_;
    torch::Device device_{torch::kCPU};
};

} // namespace

ICLR_PLUGIN(iclr::Method, VitGan, "vitgan", "0.1.0",
            "Lee, Chang, Jiang, Zhang, Tu, Liu. ViTGAN: Training GANs with Vision Transformers. ICLR 2022.",
            "a GAN on MNIST with a ViT discriminator, with or without ViTGAN's improved spectral normalisation and "
            "L2 attention; collapse, a Lipschitz estimate and a Fréchet distance in a cached classifier's features")
