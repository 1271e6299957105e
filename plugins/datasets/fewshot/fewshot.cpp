// Dataset plugin `fewshot`: N-way K-shot episodes over class pools from MNIST and Fashion-MNIST
// (20 classes), with disjoint meta-train, meta-val and meta-test classes.
#include <algorithm>
#include <set>

#include "iclr/fewshot.hpp"
#include "iclr/idx.hpp"

namespace {

// One pool of images per global class id (0-9 MNIST digits, 10-19 Fashion-MNIST classes 0-9).
class PoolSampler : public iclr::EpisodeSampler {
  public:
    PoolSampler(std::map<int64_t, torch::Tensor> pools, std::map<std::string, std::vector<int64_t>> splits,
                int64_t ways, int64_t shots, int64_t queries)
        : pools_(std::move(pools)), splits_(std::move(splits)), ways_(ways), shots_(shots), queries_(queries) {}

    // `ways` classes of the split in a random order (class k of the episode is the k-th drawn), and
    // for each, shots + queries distinct images: the first `shots` support, the rest query.
    iclr::Episode sample(const std::string& split, std::mt19937_64& rng) override {
        auto it = splits_.find(split);
        if (it == splits_.end()) throw iclr::PluginError("fewshot: no split '" + split + "' (train, val, test)");
        std::vector<int64_t> classes = it->second;
        std::shuffle(classes.begin(), classes.end(), rng);
        std::vector<const torch::Tensor*> pools;
        for (int64_t k = 0; k < ways_; ++k)
            pools.push_back(&pools_.at(classes[size_t(k)]));
        return iclr::episode_from_pools(pools, shots_, queries_, rng);
    }

  private:
    std::map<int64_t, torch::Tensor> pools_;
    std::map<std::string, std::vector<int64_t>> splits_;
    int64_t ways_, shots_, queries_;
};

class Fewshot : public iclr::Dataset {
  public:
    struct Params {
        iclr::List classes{"classes", "[[0, 1, 2, 3, 4, 10, 11, 12, 13, 14], [5, 6, 7, 15, 16], [8, 9, 17, 18, 19]]",
                           "meta-train, meta-val and meta-test class ids (0-9 MNIST digits, 10-19 Fashion-MNIST "
                           "classes 0-9); disjoint"};
        iclr::Int ways{"ways", 5, 2, 20, "classes per episode (N)"};
        iclr::Int shots{"shots", 1, 1, 100, "support examples per class (K)"};
        iclr::Int queries{"queries", 15, 1, 500, "query examples per class"};
        iclr::Int per_class{"per_class", 300, 1, 5000, "images per class in the pools (from the training files)"};
        iclr::Int split_seed{"split_seed", 0, 0, 1000000, "seed of which images each pool keeps"};
    };

    Fewshot(const Params& p, iclr::RunContext&)
        : lists_(p.classes.int_lists()), ways_(p.ways), shots_(p.shots), queries_(p.queries), per_class_(p.per_class),
          split_seed_(p.split_seed) {
        if (lists_.size() != 3) throw iclr::PluginError("fewshot: classes must hold three lists (train, val, test)");
        std::set<int64_t> seen;
        for (const auto& l : lists_)
            for (int64_t c : l) {
                if (c < 0 || c > 19) throw iclr::PluginError("fewshot: class " + std::to_string(c) + " is not in 0-19");
                if (!seen.insert(c).second)
                    throw iclr::PluginError("fewshot: class " + std::to_string(c) + " is in two splits");
            }
        if (shots_ + queries_ > per_class_)
            throw iclr::PluginError("fewshot: shots + queries exceed per_class (" + std::to_string(per_class_) + ")");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        std::map<int64_t, torch::Tensor> pools;
        read_pools(ctx, iclr::idx::kMnist, 0, pools);
        read_pools(ctx, iclr::idx::kFashionMnist, 10, pools);
        std::map<std::string, std::vector<int64_t>> splits{
            {"train", lists_[0]}, {"val", lists_[1]}, {"test", lists_[2]}};
        iclr::Benchmark b;
        b.name = "fewshot";
        b.input_shape = {1, 28, 28};
        b.num_classes = ways_;
        b.episodes = std::make_shared<PoolSampler>(std::move(pools), std::move(splits), ways_, shots_, queries_);
        return b;
    }

  private:
    // The classes this sweep uses, each the first per_class images of its fixed shuffled order.
    void read_pools(iclr::RunContext& ctx, iclr::idx::Stats stats, int64_t offset,
                    std::map<int64_t, torch::Tensor>& pools) const {
        std::vector<int64_t> wanted;
        for (const auto& l : lists_)
            for (int64_t c : l)
                if (c >= offset && c < offset + 10) wanted.push_back(c - offset);
        if (wanted.empty()) return;
        auto [u8, y] = iclr::idx::read_split(ctx.data_dir(), stats, "train");
        // Only the pooled images normalised (the same bits as selecting from all 60,000 normalised).
        for (int64_t c : wanted)
            pools[c + offset] = iclr::idx::normalised_rows(
                u8, iclr::idx::select_rows(y, {c}, per_class_, 0, uint64_t(split_seed_), 0), stats.mean, stats.sd);
    }

    std::vector<std::vector<int64_t>> lists_;
    int64_t ways_, shots_, queries_, per_class_, split_seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, Fewshot, "fewshot", "0.1.0",
            "Vinyals et al. Matching Networks for One Shot Learning. NeurIPS 2016 (the N-way K-shot protocol).",
            "N-way K-shot episodes over 20 class pools (MNIST digits and Fashion-MNIST classes) with disjoint "
            "meta-train / meta-val / meta-test classes")
