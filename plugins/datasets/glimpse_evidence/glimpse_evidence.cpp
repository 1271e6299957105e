// Dataset plugin `glimpse_evidence`: an evidence-integration task built from MNIST, the kind of
// task neuroscience trains animals (and RNNs) on: a trial is a sequence of noisy glimpses of two
// digits and the answer is the digit shown more often. Its tasks are the stages a curriculum can
// use: single glimpses (recognise the digit), then sequences from easy to the target coherence.
#include <algorithm>

#include "iclr/idx.hpp"
#include "iclr/sdk.hpp"

namespace {

class GlimpseEvidence : public iclr::Dataset {
  public:
    struct Params {
        iclr::Int digit_a{"digit_a", 0, 0, 9, "the digit of class 0"};
        iclr::Int digit_b{"digit_b", 1, 0, 9, "the digit of class 1"};
        iclr::Int glimpses{"glimpses", 9, 1, 99, "glimpses per trial (odd: the majority is never a tie)"};
        iclr::Float easy_coherence{"easy_coherence", 0.9, 0.5, 1.0,
                                   "chance a glimpse shows the trial's side in the easiest stage"};
        iclr::Float coherence{"coherence", 0.6, 0.5, 1.0, "the same in the target task (the last)"};
        iclr::Int levels{"levels", 3, 1, 10, "coherence levels from easy to the target, evenly spaced"};
        iclr::Float noise{"noise", 0.5, 0.0, 10.0, "sd of the Gaussian pixel noise on each glimpse (pixels in [0, 1])"};
        iclr::Int train_trials{"train_trials", 8000, 10, 1000000, "training trials per stage"};
        iclr::Int test_trials{"test_trials", 500, 10, 1000000, "test trials per stage"};
        iclr::Int data_seed{"data_seed", 0, 0, 1000000, "seed of the trials and their noise"};
    };

    GlimpseEvidence(const Params& p, iclr::RunContext&) : p_(p) {
        if (p.digit_a == p.digit_b) throw iclr::PluginError("glimpse_evidence: digit_a and digit_b are the same digit");
        if (p.glimpses % 2 == 0) throw iclr::PluginError("glimpse_evidence: glimpses must be odd (no tied majority)");
    }

    // Tasks: "single" (T = 1, label = the digit), then `levels` sequence tasks "coherence=c" with c
    // from easy_coherence down to coherence; the last is the target task.
    iclr::Benchmark load(iclr::RunContext& ctx) override {
        auto train = pools(iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "train"));
        auto test = pools(iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "test"));
        iclr::Benchmark b;
        b.name = "glimpse_evidence";
        b.num_classes = 2;
        b.input_shape = {p_.glimpses, 14 * 14};
        auto gen = iclr::make_generator(uint64_t(int64_t(p_.data_seed)), 0x61);
        b.tasks.push_back(
            {"single", {0, 1}, trials(train, 1, 1.0, p_.train_trials, gen), trials(test, 1, 1.0, p_.test_trials, gen)});
        for (int64_t k = 0; k < p_.levels; ++k) {
            double c = p_.levels == 1
                           ? double(p_.coherence)
                           : p_.easy_coherence + (p_.coherence - p_.easy_coherence) * double(k) / double(p_.levels - 1);
            b.tasks.push_back({"coherence=" + std::to_string(c).substr(0, 5),
                               {0, 1},
                               trials(train, p_.glimpses, c, p_.train_trials, gen),
                               trials(test, p_.glimpses, c, p_.test_trials, gen)});
        }
        return b;
    }

  private:
    // The two digits' images, 2x2-mean-pooled to 14 x 14 and flattened: [n, 196] each.
    std::array<torch::Tensor, 2> pools(const iclr::idx::Stored& split) const {
        auto x = split.images.to(torch::kFloat32).div_(255.0).unsqueeze(1);
        const auto& y = split.labels;
        std::array<torch::Tensor, 2> out;
        for (int k = 0; k < 2; ++k) {
            auto pick = torch::nonzero(y == (k == 0 ? int64_t(p_.digit_a) : int64_t(p_.digit_b))).flatten();
            out[size_t(k)] = torch::avg_pool2d(x.index_select(0, pick), 2).flatten(1);
        }
        return out;
    }

    // n trials of T glimpses: side s ~ Bernoulli(1/2); each glimpse shows digit s with chance c,
    // else the other, a random image of it plus pixel noise; label = the digit shown more often
    // (= s for T = 1 and c = 1). x [n, T, 196], y [n].
    iclr::Split trials(const std::array<torch::Tensor, 2>& pool, int64_t T, double c, int64_t n,
                       torch::Generator& gen) const {
        auto side = torch::randint(0, 2, {n, 1}, gen, torch::kInt64);
        auto agree = torch::rand({n, T}, gen).lt(c).to(torch::kInt64);
        auto shown = side * agree + (1 - side) * (1 - agree); // [n, T] digit class of each glimpse
        auto x = torch::empty({n, T, 14 * 14});
        for (int k = 0; k < 2; ++k) {
            auto where = torch::nonzero(shown.flatten() == k).flatten();
            auto pick = torch::randint(0, pool[size_t(k)].size(0), {where.size(0)}, gen, torch::kInt64);
            x.view({n * T, -1}).index_copy_(0, where, pool[size_t(k)].index_select(0, pick));
        }
        x.add_(torch::randn({n, T, 14 * 14}, gen) * double(p_.noise));
        auto y = shown.sum(1).mul(2).gt(T).to(torch::kInt64);
        return {x, y};
    }

    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, GlimpseEvidence, "glimpse_evidence", "0.1.0",
            "Built for Kepple, Engelken, Rajan. Curriculum learning as a tool to uncover learning principles in the "
            "brain. ICLR 2022 (their tasks are evidence integration over Poisson cues; this is an MNIST stand-in).",
            "evidence integration over noisy MNIST glimpses of two digits: tasks = single glimpses, then trial "
            "sequences from easy to the target coherence; label = the digit shown more often")
