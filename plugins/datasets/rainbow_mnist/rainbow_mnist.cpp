// Dataset plugin `rainbow_mnist`: RainbowMNIST (Finn et al., ICML 2019; MLTI's benchmark), rebuilt
// from the MNIST files: 56 task families (7 background colours x 2 scales x 4 rotations), each a
// 10-way digit task; families split into meta-train, meta-val and meta-test, at random or with
// the meta-test families turned by an angle no meta-training family has.
#include <algorithm>
#include <array>

#include "iclr/fewshot.hpp"
#include "iclr/idx.hpp"

namespace {

constexpr int64_t kGroups = 56, kTrainPool = 40, kVal = 6, kTest = 10;

// CSS's red, orange, yellow, green, blue, indigo, violet, as RGB in [0, 1].
constexpr std::array<std::array<double, 3>, 7> kColours{{{1.0, 0.0, 0.0},
                                                         {1.0, 165 / 255.0, 0.0},
                                                         {1.0, 1.0, 0.0},
                                                         {0.0, 128 / 255.0, 0.0},
                                                         {0.0, 0.0, 1.0},
                                                         {75 / 255.0, 0.0, 130 / 255.0},
                                                         {238 / 255.0, 130 / 255.0, 238 / 255.0}}};

// Family g: colour g / 8, scale (g / 4) % 2 (0 full, 1 half), rotation 90 * (g % 4) degrees.
struct Family {
    int64_t colour, half, quarter_turns;
};
Family family(int64_t g) { return {g / 8, (g / 4) % 2, g % 4}; }

// Grey digits [n, 28, 28] in [0, 1] -> [n, 3, 28, 28]: rotated by whole quarter turns (exact),
// halved (2x2 means) and centred on a 28x28 canvas, then coloured as PIL's colorize(colour, white):
// pixel = colour * (1 - g) + g, a white digit on the family's background.
torch::Tensor render(const torch::Tensor& grey, const Family& f) {
    auto x = torch::rot90(grey, f.quarter_turns, {1, 2}).unsqueeze(1);
    if (f.half) x = torch::constant_pad_nd(torch::avg_pool2d(x, 2), {7, 7, 7, 7}, 0.0);
    const auto& c = kColours.at(size_t(f.colour));
    auto colour = torch::tensor({c[0], c[1], c[2]}, torch::kFloat32).view({1, 3, 1, 1});
    return colour * (1.0 - x) + x;
}

// Pools [family][digit] of per_class rendered images; an episode is one family of its split, all
// ten digits (label = digit: the families share one label space), K + Q images of each.
class FamilySampler : public iclr::EpisodeSampler {
  public:
    FamilySampler(std::map<int64_t, std::vector<torch::Tensor>> pools,
                  std::map<std::string, std::vector<int64_t>> splits, int64_t shots, int64_t queries)
        : pools_(std::move(pools)), splits_(std::move(splits)), shots_(shots), queries_(queries) {}

    iclr::Episode sample(const std::string& split, std::mt19937_64& rng) override {
        auto it = splits_.find(split);
        if (it == splits_.end()) throw iclr::PluginError("rainbow_mnist: no split '" + split + "' (train, val, test)");
        const auto& families = it->second;
        const auto& digits = pools_.at(families[size_t(rng() % families.size())]);
        std::vector<const torch::Tensor*> pools;
        for (const auto& d : digits)
            pools.push_back(&d);
        return iclr::episode_from_pools(pools, shots_, queries_, rng);
    }

  private:
    std::map<int64_t, std::vector<torch::Tensor>> pools_;
    std::map<std::string, std::vector<int64_t>> splits_;
    int64_t shots_, queries_;
};

class RainbowMnist : public iclr::Dataset {
  public:
    struct Params {
        iclr::Int train_families{"train_families", 16, 1, kTrainPool,
                                 "meta-training families: the first N of the 40 in the meta-train pool (MLTI's "
                                 "RainbowMNIST run: 40 x ratio 0.4 = 16)"};
        iclr::Int shots{"shots", 1, 1, 50, "support images per digit (MLTI's run: 1)"};
        iclr::Int queries{"queries", 15, 1, 99, "query images per digit (MLTI: 15)"};
        iclr::Int per_class{"per_class", 20, 2, 100, "images of each digit in each family (MLTI's loader: 20)"};
        iclr::Int split_seed{"split_seed", 0, 0, 1000000, "seed of which families go to which split and of the images"};
        iclr::String test_families{"test_families", "random", "random|new_rotation",
                                   "random: any 10 of the 56 (MLTI's split; each test family shares its colour, scale "
                                   "and angle with some meta-training family); new_rotation: 10 of the 14 turned "
                                   "270 degrees, an angle no meta-training family has (the less related setting)"};
    };

    RainbowMnist(const Params& p, iclr::RunContext&)
        : train_(p.train_families), shots_(p.shots), queries_(p.queries), per_class_(p.per_class),
          split_seed_(p.split_seed), new_rotation_(p.test_families() == "new_rotation") {
        if (shots_ + queries_ > per_class_)
            throw iclr::PluginError("rainbow_mnist: shots + queries exceed per_class (" + std::to_string(per_class_) +
                                    ")");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        auto order = family_order();
        std::map<std::string, std::vector<int64_t>> splits{
            {"train", {order.begin(), order.begin() + train_}},
            {"val", {order.begin() + kTrainPool, order.begin() + kTrainPool + kVal}},
            {"test", {order.begin() + kTrainPool + kVal, order.end()}}};
        std::map<int64_t, std::vector<torch::Tensor>> pools;
        auto [x, y] = mnist_all(ctx);
        for (const auto& [name, families] : splits)
            for (int64_t g : families)
                pools[g] = family_pool(x, y, g);
        iclr::Benchmark b;
        b.name = "rainbow_mnist";
        b.input_shape = {3, 28, 28};
        b.num_classes = 10;
        b.episodes = std::make_shared<FamilySampler>(std::move(pools), std::move(splits), shots_, queries_);
        return b;
    }

  private:
    // The 56 family ids in the split order split_seed draws: 40 meta-train, 6 meta-val, 10 meta-test.
    // new_rotation keeps the draw's order within each angle but moves the 14 families turned 270
    // degrees to the end: 10 of them are the meta-test families, the other 4 join 2 of the rest as
    // meta-val, and the 40 meta-training families are the remaining ones (0, 90, 180 degrees).
    std::vector<int64_t> family_order() const {
        auto perm = torch::randperm(kGroups, iclr::make_generator(uint64_t(split_seed_), 0x5a1b0));
        std::vector<int64_t> order(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + kGroups);
        if (new_rotation_)
            std::stable_partition(order.begin(), order.end(), [](int64_t g) { return family(g).quarter_turns != 3; });
        return order;
    }
    // MNIST's training and test files together (70,000 digits, as MLTI and later rebuilds use).
    static std::pair<torch::Tensor, torch::Tensor> mnist_all(iclr::RunContext& ctx) {
        auto train = iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "train");
        auto test = iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "test");
        return {torch::cat({train.images, test.images}), torch::cat({train.labels, test.labels})};
    }
    // Family g's images of each digit: the window [g * per_class, (g + 1) * per_class) of that
    // digit's fixed shuffled order, so no two families share an image.
    std::vector<torch::Tensor> family_pool(const torch::Tensor& x, const torch::Tensor& y, int64_t g) const {
        std::vector<torch::Tensor> digits;
        for (int64_t d = 0; d < 10; ++d) {
            auto where = torch::nonzero(y == d).flatten();
            auto order = torch::randperm(where.size(0), iclr::make_generator(uint64_t(split_seed_), 1 + uint64_t(d)));
            auto pick = where.index_select(0, order.slice(0, g * per_class_, (g + 1) * per_class_));
            auto grey = x.index_select(0, pick).to(torch::kFloat32).div_(255.0);
            digits.push_back(render(grey, family(g)));
        }
        return digits;
    }

    int64_t train_, shots_, queries_, per_class_, split_seed_;
    bool new_rotation_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, RainbowMnist, "rainbow_mnist", "0.2.0",
            "Finn, Rajeswaran, Kakade, Levine. Online Meta-Learning. ICML 2019 (RainbowMNIST). Used by Yao, Zhang, "
            "Finn. Meta-Learning with Fewer Tasks through Task Interpolation. ICLR 2022.",
            "RainbowMNIST rebuilt from MNIST: 56 families (7 background colours x 2 scales x 4 rotations), 10-way "
            "episodes of one family each, meta-train / meta-val / meta-test families disjoint")
