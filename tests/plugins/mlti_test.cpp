// MLTI's task interpolation (iclr/fewshot.hpp) and the rainbow_mnist data set: mixup is the convex
// combination of paired images of paired classes with the first task's labels; CutMix pastes one
// box of the partner per set, of MLTI's size; over many meta-batches the partner is the next episode
// 3/4 of the time, the class pairing a permutation and lambda Beta(2, 2); protonet and maml train
// on the interpolations when asked. RainbowMNIST's images are traced back to MNIST digits pixel by
// pixel, which tells each image's colour, scale and rotation: an episode is one family, labels are
// the digits, and meta-train, meta-val and meta-test families are disjoint.
#include <unordered_map>

#include "iclr/fewshot.hpp"
#include "iclr/idx.hpp"
#include "plugin_test_util.hpp"

using namespace iclr;

namespace {

// An episode of `ways` classes, `shots` support and `queries` query images of 1 x 4 x 4, image i
// of class k of a set filled with base + 10 k + i (queries from 100 on): every image tells where
// it came from.
Episode coded_episode(double base, int64_t ways, int64_t shots, int64_t queries, int64_t side = 4) {
    auto set = [&](int64_t per, double offset) {
        std::vector<torch::Tensor> x, y;
        for (int64_t k = 0; k < ways; ++k)
            for (int64_t i = 0; i < per; ++i) {
                x.push_back(torch::full({1, 1, side, side}, base + offset + 10.0 * double(k) + double(i)));
                y.push_back(torch::tensor({k}, torch::kLong));
            }
        return Split{torch::cat(x), torch::cat(y)};
    };
    return {set(shots, 0), set(queries, 100), ways, shots};
}

} // namespace

TEST(Mlti, MixupIsTheConvexCombinationOfPairedClassesWithTheFirstTasksLabels) {
    auto a = coded_episode(0, 3, 2, 1), b = coded_episode(1000, 3, 2, 1);
    std::mt19937_64 rng(0);
    auto m = interpolate_episodes(a, b, {2, 0, 1}, 0.3, "mixup", rng);
    EXPECT_TRUE(torch::equal(m.support.y, a.support.y) && torch::equal(m.query.y, a.query.y));
    EXPECT_EQ(m.ways, 3);
    // Support image i of class k: 0.3 (10 k + i) + 0.7 (1000 + 10 perm[k] + i).
    int64_t perm[3] = {2, 0, 1};
    for (int64_t k = 0; k < 3; ++k)
        for (int64_t i = 0; i < 2; ++i) {
            double want = 0.3 * double(10 * k + i) + 0.7 * double(1000 + 10 * perm[k] + i);
            EXPECT_NEAR(m.support.x[2 * k + i].mean().item<double>(), want, 1e-3) << k << " " << i;
            EXPECT_NEAR(m.support.x[2 * k + i].max().item<double>(), want, 1e-3);
        }
    EXPECT_NEAR(m.query.x[1].mean().item<double>(), 0.3 * 110 + 0.7 * 1100, 1e-3); // query class 1 <- b's 0
    auto uneven = b;
    uneven.support.y = torch::tensor({0, 0, 0, 1, 2, 2}, torch::kLong);
    EXPECT_THROW(interpolate_episodes(a, uneven, {0, 1, 2}, 0.5, "mixup", rng), PluginError);
    EXPECT_THROW(interpolate_episodes(a, b, {0, 1, 2}, 0.5, "blend", rng), PluginError);
}

TEST(Mlti, CutmixPastesOneBoxOfThePartnerPerSetOfMltisSize) {
    auto a = coded_episode(0, 2, 3, 2, 28), b = coded_episode(1000, 2, 3, 2, 28);
    std::mt19937_64 rng(5);
    for (int trial = 0; trial < 20; ++trial) {
        auto m = interpolate_episodes(a, b, {1, 0}, 0.75, "cutmix", rng);
        for (const auto* pair : {&m.support, &m.query}) {
            const Split& got = *pair;
            const Split& from_a = pair == &m.support ? a.support : a.query;
            auto pasted = got.x.ne(from_a.x); // [n, 1, 28, 28]: where the partner's pixels are
            // One box for the whole set: the same mask in every image.
            auto mask = pasted[0][0];
            for (int64_t i = 0; i < got.size(); ++i)
                EXPECT_TRUE(torch::equal(pasted[i][0], mask)) << trial;
            // Inside it, the partner's image of the paired class (class 0 <- 1, 1 <- 0), same rank.
            auto rows = torch::nonzero(mask.any(1)).flatten(), cols = torch::nonzero(mask.any(0)).flatten();
            if (rows.numel() == 0) continue; // a box clipped away entirely
            int64_t h = rows.numel(), w = cols.numel();
            EXPECT_EQ(mask.sum().item<int64_t>(), h * w) << "not a rectangle";
            // sqrt(1 - 0.75) = 0.5: sides int(28 * 0.5) = 14, less where clipped at the border.
            EXPECT_LE(h, 14);
            EXPECT_LE(w, 14);
            int64_t r0 = rows[0].item<int64_t>(), c0 = cols[0].item<int64_t>();
            EXPECT_TRUE(h == 14 || r0 == 0 || r0 + h == 28);
            EXPECT_TRUE(w == 14 || c0 == 0 || c0 + w == 28);
            double partner_first = 1000 + (pair == &m.support ? 0 : 100) + 10 * 1; // class 0's pair is b's 1
            EXPECT_EQ(got.x[0][0][r0][c0].item<double>(), partner_first);
        }
    }
    // lambda = 1: an empty box, the first task unchanged.
    auto same = interpolate_episodes(a, b, {1, 0}, 1.0, "cutmix", rng);
    EXPECT_TRUE(torch::equal(same.support.x, a.support.x) && torch::equal(same.query.x, a.query.x));
}

TEST(Mlti, PartnerIsTheNextEpisodeThreeTimesInFourClassesPermutedLambdaBeta22) {
    ParamSet set;
    set.values = {{"mlti", Value::of_bool(true)},
                  {"mlti_alpha", Value::of_float(2.0)},
                  {"mlti_cross", Value::of_float(0.75)},
                  {"mlti_mix", Value::of_string("mixup")}};
    TaskInterpolation mix(fill_params<MltiParams>(set), 7);
    // Episode 0 holds zeros, episode 1 holds class codes 1000 + 10 k + i: episode 0's mixture is
    // (1 - lambda) times its partner, so 0 exactly when it was mixed with itself.
    auto zero = coded_episode(0, 4, 1, 1);
    zero.support.x.zero_();
    zero.query.x.zero_();
    std::vector<Episode> batch{zero, coded_episode(1000, 4, 1, 1)};
    int cross = 0, n = 2000;
    double sum = 0, sum2 = 0;
    std::vector<int> pair_count(16, 0);
    for (int t = 0; t < n; ++t) {
        auto out = mix(batch);
        ASSERT_EQ(out.size(), 2u);
        auto v = out[0].support.x.flatten(1).select(1, 0); // one value per class
        if (v.abs().max().item<double>() == 0.0) continue;
        ++cross;
        // Which class of the partner each class met: (v / (1 - lambda) - 1000) / 10, with lambda
        // from class 0's value... solve with two unknowns: v_k = (1 - lambda) (1000 + 10 perm[k]).
        double s = v.sum().item<double>(); // (1 - lambda) (4000 + 10 * (0 + 1 + 2 + 3))
        double lambda = 1.0 - s / 4060.0;
        sum += lambda;
        sum2 += lambda * lambda;
        std::set<int64_t> met;
        for (int64_t k = 0; k < 4; ++k) {
            int64_t j = std::llround((v[k].item<double>() / (1.0 - lambda) - 1000.0) / 10.0);
            met.insert(j);
            if (j >= 0 && j < 4) ++pair_count[size_t(4 * k + j)];
        }
        EXPECT_EQ(met.size(), 4u) << "the classes were not paired one to one";
    }
    EXPECT_NEAR(double(cross) / n, 0.75, 0.04);
    double mean = sum / cross, var = sum2 / cross - mean * mean;
    EXPECT_NEAR(mean, 0.5, 0.02);  // Beta(2, 2): mean 1/2
    EXPECT_NEAR(var, 0.05, 0.008); // variance a b / ((a + b)^2 (a + b + 1)) = 4 / 80
    for (int c : pair_count)
        EXPECT_NEAR(double(c) / cross, 0.25, 0.05); // a uniform permutation: each pairing 1/4
    MltiParams off;
    TaskInterpolation none(off, 7);
    auto same = none(batch);
    EXPECT_TRUE(torch::equal(same[1].support.x, batch[1].support.x));
}

namespace {

std::vector<double> train_losses(const std::string& method, const std::string& mlti) {
    test::TestContext ctx;
    test::FewshotSession s(ctx, "8", {{"per_class", "40"}});
    std::map<std::string, std::string> p{{"meta_steps", "4"}, {"meta_batch", "2"}, {"log_every", "1"}, {"mlti", mlti}};
    if (method == "maml") p["inner_steps"] = "1";
    auto m = test::make_plugin<Method>("methods", method, ctx, p);
    torch::manual_seed(0); // the backbone's draw, as a worker seeds each trial
    m->run(s);
    return test::logged_values(ctx, "train_loss");
}

} // namespace

TEST(Mlti, ProtonetAndMamlTrainOnTheInterpolationsWhenAsked) {
    for (const std::string method : {"protonet", "maml"}) {
        auto plain = train_losses(method, "false"), again = train_losses(method, "false"),
             mixed = train_losses(method, "true");
        ASSERT_EQ(plain.size(), 4u);
        EXPECT_EQ(plain, again) << method;                 // deterministic, so a difference is MLTI's
        EXPECT_NE(plain.front(), mixed.front()) << method; // the first step already sees mixtures
    }
}

namespace {

// RainbowMNIST traced back to MNIST: every MNIST digit (train then test files) keyed by its bytes,
// and by its 2x2 sums (what a half-scale image keeps).
struct MnistIndex {
    torch::Tensor labels;
    std::unordered_map<std::string, int64_t> full, half;

    explicit MnistIndex(const std::filesystem::path& dir) {
        auto x = torch::cat({idx::read(dir / "train-images-idx3-ubyte"), idx::read(dir / "t10k-images-idx3-ubyte")});
        labels = torch::cat({idx::read(dir / "train-labels-idx1-ubyte"), idx::read(dir / "t10k-labels-idx1-ubyte")})
                     .to(torch::kLong);
        auto sums = torch::avg_pool2d(x.unsqueeze(1).to(torch::kFloat), 2).mul(4).round().to(torch::kShort).squeeze(1);
        for (int64_t i = 0; i < x.size(0); ++i) {
            full.emplace(key(x[i]), i);
            half.emplace(key(sums[i]), i);
        }
    }
    static std::string key(const torch::Tensor& t) {
        auto c = t.contiguous();
        return std::string(static_cast<const char*>(c.data_ptr()), size_t(c.numel() * c.element_size()));
    }
};

// What one 3 x 28 x 28 image is: its background colour (index into the seven), scale, quarter
// turns, and the MNIST digit it was made from; colour -1 when nothing matches.
struct Traced {
    int64_t colour = -1, half = 0, turns = 0, source = -1;
    int64_t family() const { return colour * 8 + half * 4 + turns; }
};

Traced trace(const torch::Tensor& img, const MnistIndex& mnist) {
    const double colours[7][3] = {{255, 0, 0}, {255, 165, 0}, {255, 255, 0},  {0, 128, 0},
                                  {0, 0, 255}, {75, 0, 130},  {238, 130, 238}};
    Traced t;
    // The background: the colour most pixels have (a digit covers well under half the image).
    int64_t most = 0;
    for (int64_t c = 0; c < 7; ++c) {
        auto rgb = torch::tensor({colours[c][0], colours[c][1], colours[c][2]}, torch::kFloat).div(255).view({3, 1, 1});
        int64_t n = (img - rgb).abs().lt(1e-5).all(0).sum().item<int64_t>();
        if (n > most) most = n, t.colour = c;
    }
    if (t.colour < 0) return t;
    // The channel with the darkest background: grey = (pixel - c) / (1 - c), a white digit.
    int64_t ch = 0;
    for (int64_t k = 1; k < 3; ++k)
        if (colours[t.colour][k] < colours[t.colour][ch]) ch = k;
    double c = colours[t.colour][ch] / 255.0;
    auto grey = (img[ch] - c) / (1.0 - c);
    for (int64_t turns = 0; turns < 4 && t.source < 0; ++turns) {
        auto back = torch::rot90(grey, -turns, {0, 1});
        auto bytes = back.mul(255).round().to(torch::kUInt8);
        if (auto it = mnist.full.find(MnistIndex::key(bytes)); it != mnist.full.end())
            t = {t.colour, 0, turns, it->second};
        auto centre = back.slice(0, 7, 21).slice(1, 7, 21).mul(1020).round().to(torch::kShort);
        if (auto it = mnist.half.find(MnistIndex::key(centre)); it != mnist.half.end() && t.source < 0)
            t = {t.colour, 1, turns, it->second};
    }
    return t;
}

} // namespace

TEST(RainbowMnist, EpisodesAreOneFamilyOfTheirSplitTracedBackToMnistDigits) {
    test::TestContext ctx;
    MnistIndex mnist(ctx.data_dir() / "mnist");
    auto b = test::make_plugin<Dataset>("datasets", "rainbow_mnist", ctx,
                                        {{"train_families", "40"}, {"shots", "2"}, {"queries", "1"}})
                 ->load(ctx);
    ASSERT_TRUE(b.episodes);
    EXPECT_EQ(b.input_shape, (std::vector<int64_t>{3, 28, 28}));
    std::map<std::string, std::set<int64_t>> families;
    std::map<int64_t, int64_t> family_of_source; // no MNIST digit in two families
    std::mt19937_64 rng(3);
    for (const auto& [split, draws] : std::map<std::string, int>{{"train", 400}, {"val", 60}, {"test", 80}})
        for (int d = 0; d < draws; ++d) {
            Episode ep = b.episodes->sample(split, rng);
            ASSERT_EQ(ep.ways, 10);
            ASSERT_EQ(ep.support.size(), 20);
            ASSERT_EQ(ep.query.size(), 10);
            std::set<int64_t> here, sources;
            for (const Split* s : {&ep.support, &ep.query})
                for (int64_t i = 0; i < s->size(); ++i) {
                    Traced t = trace(s->x[i], mnist);
                    ASSERT_GE(t.source, 0) << split << " image " << i << " is no coloured, scaled, turned MNIST digit";
                    EXPECT_EQ(mnist.labels[t.source].item<int64_t>(), s->y[i].item<int64_t>()) << "label != digit";
                    here.insert(t.family());
                    EXPECT_TRUE(sources.insert(t.source).second) << "one digit twice in an episode";
                    auto [it, fresh] = family_of_source.emplace(t.source, t.family());
                    EXPECT_EQ(it->second, t.family()) << "MNIST digit " << t.source << " in two families";
                }
            ASSERT_EQ(here.size(), 1u) << split << " episode mixes families";
            families[split].insert(*here.begin());
        }
    // 400 draws from 40 families miss one with probability < 40 (39/40)^400 = 1.6e-3 (seeded: fixed).
    EXPECT_EQ(families["train"].size(), 40u);
    EXPECT_EQ(families["val"].size(), 6u);
    EXPECT_EQ(families["test"].size(), 10u);
    std::set<int64_t> all;
    for (const auto& [split, f] : families)
        all.insert(f.begin(), f.end());
    EXPECT_EQ(all.size(), 56u) << "7 colours x 2 scales x 4 turns, each family once";
    // Fewer meta-training families: the first N of the same pool, val and test unchanged.
    auto few = test::make_plugin<Dataset>("datasets", "rainbow_mnist", ctx, {{"train_families", "3"}})->load(ctx);
    std::set<int64_t> few_train;
    for (int d = 0; d < 40; ++d) {
        Episode ep = few.episodes->sample("train", rng);
        few_train.insert(trace(ep.support.x[0], mnist).family());
        EXPECT_TRUE(families["test"].count(trace(few.episodes->sample("test", rng).query.x[0], mnist).family()));
    }
    EXPECT_EQ(few_train.size(), 3u);
    for (int64_t f : few_train)
        EXPECT_TRUE(families["train"].count(f));
    EXPECT_THROW(test::make_plugin<Dataset>("datasets", "rainbow_mnist", ctx, {{"shots", "10"}, {"queries", "15"}}),
                 std::runtime_error);
}

TEST(RainbowMnist, NewRotationTestFamiliesHaveAnAngleNoTrainingFamilyHas) {
    test::TestContext ctx;
    MnistIndex mnist(ctx.data_dir() / "mnist");
    auto b = test::make_plugin<Dataset>(
                 "datasets", "rainbow_mnist", ctx,
                 {{"train_families", "40"}, {"shots", "1"}, {"queries", "1"}, {"test_families", "\"new_rotation\""}})
                 ->load(ctx);
    std::map<std::string, std::set<int64_t>> families;
    std::mt19937_64 rng(9);
    for (const auto& [split, draws] : std::map<std::string, int>{{"train", 400}, {"val", 80}, {"test", 80}})
        for (int d = 0; d < draws; ++d) {
            Traced t = trace(b.episodes->sample(split, rng).query.x[0], mnist);
            ASSERT_GE(t.source, 0);
            families[split].insert(t.family());
        }
    EXPECT_EQ(families["train"].size(), 40u);
    EXPECT_EQ(families["test"].size(), 10u);
    EXPECT_EQ(families["val"].size(), 6u);
    for (int64_t f : families["train"])
        EXPECT_NE(f % 4, 3) << "a meta-training family turned 270 degrees";
    for (int64_t f : families["test"])
        EXPECT_EQ(f % 4, 3) << "a meta-test family not turned 270 degrees";
    int64_t val_turned = 0;
    for (int64_t f : families["val"])
        val_turned += f % 4 == 3;
    EXPECT_EQ(val_turned, 4) << "the other 4 of the 14 families at 270 degrees are meta-val";
    // random (the default) keeps the old split: some test family shares the angle 0 with training.
    auto plain = test::make_plugin<Dataset>("datasets", "rainbow_mnist", ctx, {{"train_families", "40"}})->load(ctx);
    std::set<int64_t> test_turns;
    for (int d = 0; d < 80; ++d)
        test_turns.insert(trace(plain.episodes->sample("test", rng).query.x[0], mnist).turns);
    EXPECT_GT(test_turns.size(), 1u);
}
