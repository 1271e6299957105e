// Sparse DETR on digit canvases: the canvases hold exactly the MNIST digits their labels name; the
// sparse encoder equals the dense ViT when it keeps every token and leaves unkept tokens as
// embedded; FLOPs counted by hand; the decoder's string logits, DAM and scorer target; and the
// scorer learns only when the DAM loss is on.
#include <array>
#include <set>

#include "../../plugins/methods/sparse_detr/detr_decoder.hpp"
#include "benchmark_session.hpp"
#include "iclr/idx.hpp"

using namespace iclr;

namespace {

Benchmark canvases(test::TestContext& ctx, std::map<std::string, std::string> p = {}) {
    p.emplace("train_size", "40");
    p.emplace("test_size", "20");
    return test::make_plugin<Dataset>("datasets", "digit_canvases", ctx, p)->load(ctx);
}

std::shared_ptr<Backbone> vit(test::TestContext& ctx, std::map<std::string, std::string> p) {
    p.emplace("width", "32");
    p.emplace("depth", "2");
    return test::make_plugin<Model>("models", "vit", ctx, p)->build({1, 28, 28}, ctx);
}

// Copies every parameter `to` shares by name with `from` (the sparse model adds the scorer).
void copy_shared(Backbone& from, Backbone& to) {
    torch::NoGradGuard g;
    auto src = from.named_parameters();
    for (auto& p : to.named_parameters())
        if (src.contains(p.key())) p.value().copy_(src[p.key()]);
}

torch::Tensor mnist_images(int64_t n) {
    auto x = idx::read(test::TestContext().data_dir() / "mnist" / "t10k-images-idx3-ubyte");
    return idx::normalised(x.slice(0, 0, n), 0.1307, 0.3081);
}

} // namespace

TEST(DigitCanvases, EachDigitCellHoldsExactlyTheMnistDigitItsLabelNames) {
    test::TestContext ctx;
    auto b = canvases(ctx);
    ASSERT_EQ(b.num_classes, 1000);
    EXPECT_EQ(b.input_shape, (std::vector<int64_t>{1, 84, 84}));
    const auto& s = b.tasks[0].test;
    ASSERT_EQ(s.size(), 20);
    // The same draws again, to learn which MNIST image went where: the test split's images.
    auto images = idx::normalised(idx::read(ctx.data_dir() / "mnist" / "t10k-images-idx3-ubyte"), 0.1307, 0.3081);
    auto labels = idx::read(ctx.data_dir() / "mnist" / "t10k-labels-idx1-ubyte").to(torch::kLong);
    // Black as the canvases hold it (the same lookup table as every MNIST pixel).
    float black = idx::normalised(torch::zeros({1, 1, 1}, torch::kUInt8), 0.1307, 0.3081).item<float>();
    for (int64_t i = 0; i < s.size(); ++i) {
        int64_t y = 0, last_cell = -1;
        std::set<int64_t> digit_cells;
        for (int64_t k = 0; k < 3; ++k) {
            int64_t d = s.factors.at("digit" + std::to_string(k))[i].item<int64_t>();
            int64_t c = s.factors.at("cell" + std::to_string(k))[i].item<int64_t>();
            EXPECT_GT(c, last_cell); // reading order
            last_cell = c;
            digit_cells.insert(c);
            y = 10 * y + d;
            auto cell = s.x[i][0].slice(0, 28 * (c / 3), 28 * (c / 3) + 28).slice(1, 28 * (c % 3), 28 * (c % 3) + 28);
            // Some image of that class is exactly this cell (no fragment ever lands on a digit).
            auto same = (images.squeeze(1) == cell.unsqueeze(0)).flatten(1).all(1);
            auto which = torch::nonzero(same).flatten();
            ASSERT_GT(which.size(0), 0) << "canvas " << i << " cell " << c;
            EXPECT_EQ(labels[which[0]].item<int64_t>(), d);
        }
        EXPECT_EQ(s.y[i].item<int64_t>(), y);
        // Empty cells: black but for at most the two 10 x 10 fragments.
        for (int64_t c = 0; c < 9; ++c) {
            if (digit_cells.count(c)) continue;
            auto cell = s.x[i][0].slice(0, 28 * (c / 3), 28 * (c / 3) + 28).slice(1, 28 * (c % 3), 28 * (c % 3) + 28);
            EXPECT_LE(cell.ne(black).sum().item<int64_t>(), 2 * 100);
        }
    }
    auto again = canvases(ctx);
    EXPECT_TRUE(torch::equal(again.tasks[0].train.x, b.tasks[0].train.x));
    auto other = canvases(ctx, {{"split_seed", "1"}});
    EXPECT_FALSE(torch::equal(other.tasks[0].train.x, b.tasks[0].train.x));
    auto clean = canvases(ctx, {{"distractors", "0"}});
    EXPECT_TRUE(torch::equal(clean.tasks[0].train.y, b.tasks[0].train.y)); // clutter draws come after
    EXPECT_LT(clean.tasks[0].train.x.ne(black).sum().item<int64_t>(),
              b.tasks[0].train.x.ne(black).sum().item<int64_t>());
    EXPECT_THROW(canvases(ctx, {{"digits", "4"}, {"grid", "2"}, {"distractors", "1"}}), std::exception);
}

TEST(SparseDetr, KeepingEveryTokenTheSparseEncoderIsTheDenseVit) {
    test::TestContext ctx;
    auto x = mnist_images(6);
    for (const char* pool : {"\"gap\"", "\"cls\""}) {
        torch::manual_seed(4);
        auto dense = vit(ctx, {{"pool", pool}});
        auto sparse = vit(ctx, {{"pool", pool}, {"keep", "0.999"}}); // ceil(0.999 * 16) = 16 tokens
        copy_shared(*dense, *sparse);
        auto a = dense->forward(x), b = sparse->forward(x);
        EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5)) << pool << (a - b).abs().max();
        EXPECT_EQ(sparse->internals().at("kept_tokens").size(1), 16);
        EXPECT_GT(sparse->param_count(), dense->param_count()); // the scorer
    }
}

TEST(SparseDetr, UnkeptTokensLeaveTheEncoderAsEmbedded) {
    test::TestContext ctx;
    torch::manual_seed(5);
    auto net = vit(ctx, {{"pool", "\"gap\""}, {"keep", "0.25"}});
    auto x = mnist_images(3);
    net->forward(x);
    auto in = net->internals();
    auto kept = in.at("kept_tokens");
    ASSERT_EQ(kept.sizes(), (std::vector<int64_t>{3, 4}));
    // The kept ones are the scorer's top 4.
    auto top = std::get<1>(in.at("token_scores").topk(4, 1));
    EXPECT_TRUE(torch::equal(std::get<0>(top.sort(1)), std::get<0>(kept.sort(1))));
    auto p = net->named_parameters();
    auto embedded = torch::conv2d(x, p["embed.weight"], p["embed.bias"], 7).flatten(2).transpose(1, 2) + p["pos"];
    auto out = in.at("prenorm_patch_tokens");
    for (int64_t i = 0; i < 3; ++i)
        for (int64_t t = 0; t < 16; ++t) {
            bool is_kept = kept[i].eq(t).any().item<bool>();
            bool same = torch::allclose(out[i][t], embedded[i][t], 1e-6, 1e-6);
            EXPECT_EQ(same, !is_kept) << "example " << i << " token " << t;
        }
}

TEST(SparseDetr, EncoderFlopsAreCountedAsByHand) {
    test::TestContext ctx;
    // 28 x 28, patch 7: 16 tokens of width 32, MLP 64, one block. Multiply-adds:
    // embedding 16*49*32 = 25,088; dense block: qkv 3*16*32^2 = 49,152, QK^T and AV 2*16*16*32 = 16,384,
    // proj 16*32^2 = 16,384, MLP 2*16*32*64 = 65,536: 172,544 in all, 345,088 FLOPs.
    auto dense = vit(ctx, {{"depth", "1"}, {"pool", "\"gap\""}});
    dense->forward(mnist_images(1));
    EXPECT_EQ(dense->internals().at("encoder_flops").item<double>(), 345088.0);
    // keep 0.25 = 4 tokens: scorer 16*(32^2+32) = 16,896; block: k, v for all 2*16*32^2 = 32,768, q
    // 4*32^2 = 4,096, attention rows 2*4*16*32 = 4,096, proj 4,096, MLP 2*4*32*64 = 16,384: 103,424.
    auto sparse = vit(ctx, {{"depth", "1"}, {"pool", "\"gap\""}, {"keep", "0.25"}});
    sparse->forward(mnist_images(1));
    EXPECT_EQ(sparse->internals().at("encoder_flops").item<double>(), 206848.0);
}

TEST(SparseDetr, StringLogitsDamAndTheScorerTarget) {
    auto y = torch::tensor({907, 42, 0}, torch::kLong);
    EXPECT_TRUE(torch::equal(detr::digits_of(y, 3), torch::tensor({{9, 0, 7}, {0, 4, 2}, {0, 0, 0}}, torch::kLong)));
    torch::manual_seed(6);
    auto slots = torch::randn({5, 3, 10});
    auto strings = detr::string_logits(slots);
    ASSERT_EQ(strings.sizes(), (std::vector<int64_t>{5, 1000}));
    auto d = slots.argmax(-1);
    EXPECT_TRUE(torch::equal(strings.argmax(1), d.select(1, 0) * 100 + d.select(1, 1) * 10 + d.select(1, 2)));
    // log p(string) = sum of the slots' log p: probabilities over all strings sum to one.
    EXPECT_NEAR(strings.exp().sum(1).mean().item<double>(), 1.0, 1e-5);
    auto lp = torch::log_softmax(slots, -1);
    EXPECT_NEAR(strings[2][907].item<double>(), (lp[2][0][9] + lp[2][1][0] + lp[2][2][7]).item<double>(), 1e-5);
    // The decoder's DAM: 2 layers x 4 heads x 3 queries of softmax rows, each summing to one.
    detr::Decoder dec(32, 4, 2, 3, 9);
    auto reading = dec->forward(torch::randn({5, 16, 32}));
    EXPECT_EQ(reading.digits.sizes(), (std::vector<int64_t>{5, 3, 10}));
    EXPECT_EQ(reading.cells.sizes(), (std::vector<int64_t>{5, 3, 9}));
    EXPECT_TRUE(torch::allclose(reading.dam.sum(1), torch::full({5}, 24.0), 1e-4, 1e-4));
    auto target = detr::dam_target(torch::tensor({{0.1, 3.0, 0.5, 2.0}}), 2);
    EXPECT_TRUE(torch::equal(target, torch::tensor({{0.0, 1.0, 0.0, 1.0}})));
}

TEST(SparseDetr, TheMatchedLossIsTheBestAssignmentOfQueriesToDigits) {
    torch::manual_seed(7);
    detr::Reading r{torch::randn({4, 3, 10}), torch::randn({4, 3, 9}), {}};
    auto digits = torch::tensor({{1, 2, 3}, {5, 5, 0}, {9, 8, 7}, {0, 1, 2}}, torch::kLong);
    auto cells = torch::tensor({{0, 4, 8}, {1, 2, 3}, {3, 5, 6}, {0, 1, 2}}, torch::kLong);
    // By hand: for each example, each of the 6 ways to give the 3 digits to the 3 queries.
    double total = 0;
    std::vector<std::array<int, 3>> perms{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int64_t n = 0; n < 4; ++n) {
        double best = 1e300;
        for (const auto& p : perms) {
            double c = 0;
            for (int64_t j = 0; j < 3; ++j) {
                c -= torch::log_softmax(r.digits[n][p[size_t(j)]], 0)[digits[n][j]].item<double>();
                c -= torch::log_softmax(r.cells[n][p[size_t(j)]], 0)[cells[n][j]].item<double>();
            }
            best = std::min(best, c);
        }
        total += best;
    }
    EXPECT_NEAR(detr::matched_loss(r, digits, cells).item<double>(), total / 12.0, 1e-5);
    // A reading that names every object right, in a scrambled query order, is read back in cell order.
    auto d = torch::full({1, 3, 10}, -20.0), c = torch::full({1, 3, 9}, -20.0);
    d[0][0][7] = 20, c[0][0][8] = 20; // query 0: a 7 in the last cell
    d[0][1][4] = 20, c[0][1][0] = 20; // query 1: a 4 in the first
    d[0][2][1] = 20, c[0][2][5] = 20; // query 2: a 1 in between
    detr::Reading sure{d, c, {}};
    EXPECT_TRUE(torch::equal(detr::reading_order(sure), torch::tensor({{1, 2, 0}}, torch::kLong)));
    EXPECT_EQ(detr::string_logits(detr::Learner::ordered_digits(sure)).argmax(1).item<int64_t>(), 417);
    EXPECT_LT(
        detr::matched_loss(sure, torch::tensor({{4, 1, 7}}, torch::kLong), torch::tensor({{0, 5, 8}}, torch::kLong))
            .item<double>(),
        1e-6);
}

namespace {

// digit_canvases with a sparse vit; keeps the backbone so a test can look at it after the run.
struct DetrCanvasSession : test::BenchmarkSession {
    explicit DetrCanvasSession(test::TestContext& ctx) : BenchmarkSession(ctx, canvases(ctx, {{"train_size", "64"}})) {
        model = test::make_plugin<Model>("models", "vit", ctx,
                                         {{"width", "16"}, {"depth", "1"}, {"pool", "\"gap\""}, {"keep", "0.1"}});
        on_event = [this](const Event& e, Learner& learner) {
            if (e.kind == EventKind::End) accuracy = iclr::accuracy(learner, b_.tasks[0].test, 0);
        };
    }
    std::shared_ptr<Backbone> new_backbone() override {
        backbone = BenchmarkSession::new_backbone();
        initial_scorer = scorer();
        for (auto& t : initial_scorer)
            t = t.clone();
        return backbone;
    }
    std::vector<torch::Tensor> scorer() {
        std::vector<torch::Tensor> out;
        for (auto& p : backbone->named_parameters())
            if (p.key().rfind("scorer.", 0) == 0) out.push_back(p.value().detach());
        return out;
    }
    bool scorer_moved() { return !test::same_tensors(scorer(), initial_scorer); }

    std::shared_ptr<Backbone> backbone;
    std::vector<torch::Tensor> initial_scorer;
    double accuracy = -1;
};

} // namespace

TEST(SparseDetr, TheScorerLearnsOnlyFromTheDamLoss) {
    for (const char* w : {"1.0", "0.0"}) {
        test::TestContext ctx;
        DetrCanvasSession s(ctx);
        auto method =
            test::make_plugin<Method>("methods", "sparse_detr", ctx,
                                      {{"epochs", "1"}, {"batch_size", "32"}, {"dam_weight", w}, {"log_every", "1"}});
        method->run(s);
        EXPECT_EQ(s.scorer_moved(), std::string(w) == "1.0") << "dam_weight " << w;
        // The generic string accuracy (avg_accuracy's) is the method's exact match.
        ASSERT_EQ(test::logged_values(ctx, "exact_match").size(), 1u);
        EXPECT_DOUBLE_EQ(s.accuracy, test::logged_values(ctx, "exact_match")[0]);
        EXPECT_EQ(test::logged_values(ctx, "dam_loss").size(), 2u); // logged either way: 2 steps
        ASSERT_EQ(test::logged_values(ctx, "encoder_flops").size(), 1u);
        ASSERT_EQ(test::logged_values(ctx, "dam_captured").size(), 1u);
        double captured = test::logged_values(ctx, "dam_captured")[0];
        EXPECT_GT(captured, 0.0);
        EXPECT_LT(captured, 1.0);
    }
}
