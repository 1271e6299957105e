// SimVLM's prefix-LM on digit canvases: the attention mask pinned by hand, captions, causality (a
// position's output never depends on what it may not see), the loss counting only generated
// tokens, and the plugin end to end on real canvases.
#include "../../plugins/methods/simvlm/prefix_lm.hpp"
#include "benchmark_session.hpp"

using namespace iclr;

TEST(SimVlm, TheAttentionMaskIsBidirectionalOverThePrefixAndCausalAfter) {
    // 2 image patches, 3 text inputs (BOS, t0, t1); example 0: text prefix 0 (BOS only), example 1:
    // prefix 1 (BOS, t0). Rows attend to columns (1 = may).
    auto m = simvlm::attention_mask(2, 3, torch::tensor({0, 1}, torch::kLong), true);
    auto p0 = torch::tensor({{1, 1, 1, 0, 0},  // image 0 sees the image and BOS
                             {1, 1, 1, 0, 0},  // image 1
                             {1, 1, 1, 0, 0},  // BOS
                             {1, 1, 1, 1, 0},  // t0: causal
                             {1, 1, 1, 1, 1}}, // t1
                            torch::kLong)
                  .to(torch::kBool);
    auto p1 = torch::tensor({{1, 1, 1, 1, 0}, // the prefix is image, BOS, t0
                             {1, 1, 1, 1, 0},
                             {1, 1, 1, 1, 0},
                             {1, 1, 1, 1, 0},
                             {1, 1, 1, 1, 1}},
                            torch::kLong)
                  .to(torch::kBool);
    EXPECT_TRUE(torch::equal(m[0], p0)) << m[0];
    EXPECT_TRUE(torch::equal(m[1], p1)) << m[1];
    // A plain LM is causal everywhere, the image included, whatever the prefix.
    auto lm = simvlm::attention_mask(2, 3, torch::tensor({0, 1}, torch::kLong), false);
    auto causal = torch::ones({5, 5}, torch::kBool).tril();
    EXPECT_TRUE(torch::equal(lm[0], causal));
    EXPECT_TRUE(torch::equal(lm[1], causal));
}

TEST(SimVlm, CaptionsInterleaveEachDigitWithItsCell) {
    auto c = simvlm::captions(torch::tensor({{7, 4, 2}}, torch::kLong), torch::tensor({{0, 4, 8}}, torch::kLong));
    EXPECT_TRUE(torch::equal(c, torch::tensor({{7, 10, 4, 14, 2, 18}}, torch::kLong)));
    EXPECT_EQ(simvlm::kVocab, 21);
}

namespace {

torch::Tensor text_logits(simvlm::Net& net, const torch::Tensor& x, const torch::Tensor& text, int64_t prefix,
                          bool plm) {
    auto mask =
        simvlm::attention_mask(net.image_tokens(), text.size(1), torch::full({x.size(0)}, prefix, torch::kLong), plm);
    return net.logits(x, text, mask);
}

} // namespace

TEST(SimVlm, NoPositionSeesWhatItsMaskHides) {
    torch::manual_seed(8);
    simvlm::Net net({1, 84, 84}, 14, 32, 2, 4, 7);
    net.eval();
    torch::NoGradGuard ng;
    auto x = torch::randn({2, 1, 84, 84});
    auto text = torch::tensor(std::vector<int64_t>{simvlm::kBos, 3, 11, 5, 14, 9, 17}).unsqueeze(0).repeat({2, 1});
    auto changed = text.clone();
    changed[0][4] = 12; // text input 4 (a cell word)
    for (bool plm : {true, false}) {
        // Generated positions (after the prefix) before input 4 never see it; from 4 on they do.
        auto a = text_logits(net, x, text, 1, plm), b = text_logits(net, x, changed, 1, plm);
        EXPECT_TRUE(torch::allclose(a[0].slice(0, 0, 4), b[0].slice(0, 0, 4), 1e-6, 1e-6)) << plm;
        EXPECT_FALSE(torch::allclose(a[0].slice(0, 4), b[0].slice(0, 4), 1e-4, 1e-4)) << plm;
        // The same positions computed from a shorter sequence: nothing later leaks in.
        auto cut = text_logits(net, x, text.slice(1, 0, 4), 1, plm);
        EXPECT_TRUE(torch::allclose(a.slice(1, 0, 4), cut, 1e-5, 1e-5)) << plm;
    }
    // With a text prefix of 4 (BOS, t0..t3), PrefixLM's BOS position sees input 4 (bidirectional
    // prefix); the plain LM's does not.
    auto a = text_logits(net, x, text, 4, true), b = text_logits(net, x, changed, 4, true);
    EXPECT_FALSE(torch::allclose(a[0][0], b[0][0], 1e-4, 1e-4));
    a = text_logits(net, x, text, 4, false), b = text_logits(net, x, changed, 4, false);
    EXPECT_TRUE(torch::allclose(a[0][0], b[0][0], 1e-6, 1e-6));
}

TEST(SimVlm, TheLossCountsOnlyTheGeneratedTokens) {
    torch::manual_seed(9);
    simvlm::Net net({1, 84, 84}, 14, 32, 1, 4, 7);
    auto x = torch::randn({2, 1, 84, 84});
    auto caps = torch::tensor({{3, 11, 5, 14, 9, 17}, {0, 10, 1, 12, 2, 13}}, torch::kLong);
    // Prefix 6 (the whole caption): only the end token counts, at the last position.
    auto prefix = torch::full({2}, 6, torch::kLong);
    auto loss = simvlm::generated_loss(net, x, caps, prefix, true);
    auto text_in = torch::cat({torch::full({2, 1}, simvlm::kBos, torch::kLong), caps}, 1);
    auto lp = torch::log_softmax(text_logits(net, x, text_in, 6, true), -1);
    double by_hand = -(lp[0][6][simvlm::kEos] + lp[1][6][simvlm::kEos]).item<double>() / 2;
    EXPECT_NEAR(loss.item<double>(), by_hand, 1e-5);
    // Prefix 0: every target counts, and the sum is the captions' log-likelihood.
    auto all = simvlm::generated_loss(net, x, caps, torch::zeros({2}, torch::kLong), true);
    auto ll = simvlm::caption_log_likelihood(net, x, caps, true);
    EXPECT_NEAR(all.item<double>(), -ll.sum().item<double>() / 14, 1e-5);
}

namespace {

// Real canvases; at End the learner's image features for two test canvases.
struct VlmCanvasSession : test::BenchmarkSession {
    explicit VlmCanvasSession(test::TestContext& ctx)
        : BenchmarkSession(ctx, test::make_plugin<Dataset>("datasets", "digit_canvases", ctx,
                                                           {{"train_size", "64"}, {"test_size", "20"}})
                                    ->load(ctx)) {
        on_event = [this](const Event& e, Learner& learner) {
            if (e.kind == EventKind::End) features = learner.features(b_.tasks[0].test.x.slice(0, 0, 2));
        };
    }
    torch::Tensor features;
};

} // namespace

TEST(SimVlm, BothObjectivesTrainAndReportCaptioningAndZeroShotScores) {
    std::map<std::string, double> exact;
    for (const char* objective : {"\"prefixlm\"", "\"lm\""}) {
        test::TestContext ctx;
        VlmCanvasSession s(ctx);
        auto m = test::make_plugin<Method>("methods", "simvlm", ctx,
                                           {{"objective", objective},
                                            {"width", "16"},
                                            {"depth", "1"},
                                            {"epochs", "2"},
                                            {"zero_shot_canvases", "5"},
                                            {"log_every", "1"}});
        torch::manual_seed(ctx.seed()); // as the worker: both objectives start from the same weights
        m->run(s);
        auto loss = test::logged_values(ctx, "train_loss");
        ASSERT_EQ(loss.size(), 4u); // 2 epochs of 2 batches
        for (const char* key : {"token_accuracy", "exact_match", "zero_shot_accuracy"}) {
            auto v = test::logged_values(ctx, key);
            ASSERT_EQ(v.size(), 1u) << key;
            EXPECT_GE(v[0], 0.0);
            EXPECT_LE(v[0], 1.0);
        }
        EXPECT_GT(test::logged_values(ctx, "token_accuracy")[0], 0.0); // cell words follow a pattern fast
        EXPECT_EQ(s.features.sizes(), (std::vector<int64_t>{2, 16}));
        exact[objective] = loss.back();
    }
    EXPECT_NE(exact["\"prefixlm\""], exact["\"lm\""]); // the same start: only the objective differs
    // What the parameters alone rule out is refused when the plugin is made (`iclr plan` then finds it).
    test::TestContext ctx;
    for (const auto& [params, why] :
         {std::pair<std::map<std::string, std::string>, std::string>{{{"patch", "5"}}, "patch 5 does not divide 84"},
          {{{"width", "32"}, {"heads", "5"}}, "heads must divide width"}}) {
        try {
            test::make_plugin<Method>("methods", "simvlm", ctx, params);
            ADD_FAILURE() << "made with " << why;
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(std::string(e.what()), why);
        }
    }
}
