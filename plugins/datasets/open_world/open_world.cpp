// Dataset plugin `open_world`: Cao et al.'s open-world semi-supervised setting built from MNIST or
// Fashion-MNIST. The first `seen` classes are seen: a fixed fraction of their training examples is
// labelled; the rest of the training set (seen and novel classes alike) is unlabelled.
#include "iclr/idx.hpp"

namespace {

class OpenWorld : public iclr::Dataset {
  public:
    struct Params {
        iclr::String source{"source", "mnist", "mnist|fashion_mnist", "the images the classes come from"};
        iclr::Int seen{"seen", 5, 1, 9,
                       "classes 0 .. seen-1 are seen (some of their examples labelled); the rest "
                       "are novel (never labelled). ORCA's CIFAR-10 setting: 5 of 10"};
        iclr::Float labelled_ratio{"labelled_ratio", 0.5, 0.0, 1.0,
                                   "fraction of each seen class's training examples that is labelled (ORCA: 0.5)"};
        iclr::Int train_per_class{"train_per_class", 600, 0, 7000, "training examples per class (0 = all)"};
        iclr::Int test_per_class{"test_per_class", 300, 0, 1200, "held-out test examples per class (0 = all)"};
        iclr::Int split_seed{"split_seed", 0, 0, 1000000, "seed of the subsets and of which examples are labelled"};
    };

    OpenWorld(const Params& p, iclr::RunContext&) : p_(p) {}

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        bool fashion = std::string(p_.source) == "fashion_mnist";
        const iclr::idx::Stats& stats = fashion ? iclr::idx::kFashionMnist : iclr::idx::kMnist;
        double mean = stats.mean, sd = stats.sd;
        std::vector<int64_t> all(10), seen(size_t(int64_t(p_.seen)));
        for (int64_t c = 0; c < 10; ++c)
            all[size_t(c)] = c;
        std::copy_n(all.begin(), seen.size(), seen.begin());
        auto seed = uint64_t(int64_t(p_.split_seed));
        iclr::Benchmark b;
        b.name = std::string("open_world_") + std::string(p_.source);
        b.input_shape = {1, 28, 28};
        b.num_classes = 10;
        iclr::Task t;
        t.name = "open_world";
        t.classes = seen;
        // Chosen on the mapped uint8 images, then made float (idx::normalised: the same bits as the
        // arithmetic, for the chosen images only).
        auto train = iclr::idx::read_split(ctx.data_dir(), stats, "train");
        auto test = iclr::idx::read_split(ctx.data_dir(), stats, "test");
        t.train = iclr::idx::select(train.images, train.labels, all, p_.train_per_class, 0, seed, 0);
        t.test = iclr::idx::select(test.images, test.labels, all, p_.test_per_class, 0, seed, 1000);
        t.train.x = iclr::idx::normalised(t.train.x, mean, sd);
        t.test.x = iclr::idx::normalised(t.test.x, mean, sd);
        t.train.factors["labelled"] = labelled(t.train.y, seed);
        t.test.factors["labelled"] = torch::zeros_like(t.test.y);
        b.tasks.push_back(std::move(t));
        return b;
    }

  private:
    // 1 for exactly round(ratio x n_c) examples of each seen class c, chosen by a permutation drawn
    // from (split_seed, c); 0 elsewhere. (ORCA's code flips a coin per example; a fixed count keeps
    // the labelled set's size the same across split seeds.)
    torch::Tensor labelled(const torch::Tensor& y, uint64_t seed) const {
        auto out = torch::zeros_like(y);
        for (int64_t c = 0; c < p_.seen; ++c) {
            auto where = torch::nonzero(y == c).flatten();
            auto gen = iclr::make_generator(seed, 0x0ca + uint64_t(c));
            auto n = int64_t(std::llround(double(p_.labelled_ratio) * double(where.size(0))));
            out.index_fill_(0, where.index_select(0, torch::randperm(where.size(0), gen).slice(0, 0, n)), 1);
        }
        return out;
    }

    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, OpenWorld, "open_world", "0.1.0",
            "Built for Cao, Brbic, Leskovec. Open-World Semi-Supervised Learning. ICLR 2022 (their setting on "
            "CIFAR / ImageNet; this one on MNIST or Fashion-MNIST).",
            "one task: seen classes partly labelled (train factor `labelled` = 1), the rest of the training set "
            "unlabelled and holding novel classes too; `classes` = the seen classes; a held-out test set of all")
