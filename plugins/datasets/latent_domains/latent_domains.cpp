// Dataset plugin `latent_domains`: one training set mixing several visual domains built from MNIST
// and Fashion-MNIST (plain, colour-inverted, rotated and noisy digits, clothing items), for Deecke
// et al.'s representation learning over latent domains. Each example's domain is recorded as the
// factor `domain` (for evaluation and the oracle) but is not part of the task.
#include <sstream>

#include "iclr/idx.hpp"

namespace {

constexpr double kMean = iclr::idx::kMnist.mean,
                 kSd = iclr::idx::kMnist.sd; // every domain normalised with MNIST's statistics

class LatentDomains : public iclr::Dataset {
  public:
    struct Params {
        iclr::String domains{"domains", "plain,inverted,rotated,noisy,fashion", nullptr,
                             "comma-separated domains of the mixture, from plain (MNIST), inverted (1 - pixel), "
                             "rotated (90 degrees), noisy (Gaussian noise, sd `noise`, clipped) and fashion "
                             "(Fashion-MNIST items: the same ten labels, other objects)"};
        iclr::Int train_per_class{"train_per_class", 100, 1, 1000, "training images per class and domain"};
        iclr::Int test_per_class{"test_per_class", 100, 1, 170, "test images per class and domain"};
        iclr::Float noise{"noise", 0.5, 0.0, 10.0, "noisy: sd of the added noise on the [0, 1] pixel scale"};
        iclr::Int split_seed{"split_seed", 0, 0, 1000000, "seed of the subsets and of the noise"};
    };

    LatentDomains(const Params& p, iclr::RunContext&) : p_(p) {
        std::stringstream in{std::string(p.domains)};
        for (std::string d; std::getline(in, d, ',');) {
            if (d != "plain" && d != "inverted" && d != "rotated" && d != "noisy" && d != "fashion")
                throw iclr::PluginError("latent_domains: unknown domain '" + d +
                                        "' (plain, inverted, rotated, noisy, fashion)");
            names_.push_back(d);
        }
        if (names_.empty()) throw iclr::PluginError("latent_domains: no domains");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        iclr::Benchmark b;
        b.name = "latent_domains";
        b.input_shape = {1, 28, 28};
        b.num_classes = 10;
        iclr::Task t;
        t.name = "mixture";
        for (int64_t c = 0; c < 10; ++c)
            t.classes.push_back(c);
        t.train = mixture(ctx, "train", p_.train_per_class, 0);
        t.test = mixture(ctx, "test", p_.test_per_class, 1000);
        b.tasks.push_back(std::move(t));
        return b;
    }

  private:
    // Each domain's images, normalised; the digit domains take disjoint windows of each class's
    // shuffled order, so no MNIST image appears in two domains.
    iclr::Split mixture(iclr::RunContext& ctx, const std::string& split, int64_t per_class, uint64_t stream) const {
        auto seed = uint64_t(int64_t(p_.split_seed));
        std::vector<int64_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        auto load = [&](const iclr::idx::Stats& stats) {
            auto [images, labels] = iclr::idx::read_split(ctx.data_dir(), stats, split);
            return std::make_pair(images.to(torch::kFloat32).div_(255.0).unsqueeze(1), labels);
        };
        auto [mx, my] = load(iclr::idx::kMnist);
        std::vector<torch::Tensor> xs, ys, ds;
        int64_t digit_window = 0;
        for (size_t d = 0; d < names_.size(); ++d) {
            iclr::Split s;
            if (names_[d] == "fashion") {
                auto [fx, fy] = load(iclr::idx::kFashionMnist);
                s = iclr::idx::select(fx, fy, all, per_class, 0, seed, stream);
            } else {
                s = iclr::idx::select(mx, my, all, per_class, per_class * digit_window++, seed, stream);
            }
            auto gen = iclr::make_generator(seed, 0xd0 + stream + d);
            xs.push_back(render(names_[d], s.x, gen).sub_(kMean).div_(kSd));
            ys.push_back(s.y);
            ds.push_back(torch::full_like(s.y, int64_t(d)));
        }
        return {torch::cat(xs), torch::cat(ys), {{"domain", torch::cat(ds)}}};
    }

    // One domain's look, on the [0, 1] pixel scale.
    torch::Tensor render(const std::string& domain, const torch::Tensor& u, torch::Generator& gen) const {
        if (domain == "inverted") return 1.0 - u;
        if (domain == "rotated") return torch::rot90(u, 1, {2, 3}).contiguous();
        if (domain == "noisy") return (u + double(p_.noise) * torch::randn(u.sizes(), gen)).clamp_(0.0, 1.0);
        return u.clone();
    }

    Params p_;
    std::vector<std::string> names_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, LatentDomains, "latent_domains", "0.1.0",
            "Built for Deecke, Hospedales, Bilen. Visual Representation Learning over Latent Domains. ICLR 2022 "
            "(their mixtures: PACS, Office-Home, DomainNet; these are MNIST / Fashion-MNIST stand-ins).",
            "one task mixing domains (plain, inverted, rotated, noisy digits; clothing items) over ten shared labels, "
            "the domain of each example a factor, never part of the task")
