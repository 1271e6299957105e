// SDK helpers a plugin author builds on: typed parameter structs, seeded generators, mini-batches,
// the supervised loop, and the getters' message for a typo in plugin code.
#include "plugin_test_util.hpp"

#include <cmath>
#include <random>
#include <set>

using namespace iclr;

namespace {

struct DemoParams {
    Float lr{"lr", 0.05, 0.0, 10.0, "learning rate"};
    Int epochs{"epochs", 3, 1, 1000, "epochs"};
    Bool reset{"reset_optimizer", true, "fresh optimiser per task"};
    String opt{"optimizer", "sgd", "sgd|adam", "optimiser"};
    String tag{"tag", "say \"hi\"", nullptr, "free text"};
    List tasks{"tasks", "[[0, 1], [2, 3]]", "class ids"};
};

ParamSet set_of(std::map<std::string, Value> v) {
    ParamSet p;
    p.values = std::move(v);
    return p;
}

} // namespace

TEST(DeclaredParams, TheStructIsTheSchemaInDeclarationOrder) {
    iclr::detail::Declared<DemoParams> d;
    ASSERT_EQ(d.fields.size(), 6u);
    std::vector<std::string> names;
    for (auto* f : d.fields)
        names.push_back(f->name());
    EXPECT_EQ(names, (std::vector<std::string>{"lr", "epochs", "reset_optimizer", "optimizer", "tag", "tasks"}));
    iclr_param_spec lr = d.fields[0]->spec();
    EXPECT_EQ(lr.type, uint32_t(ICLR_PARAM_FLOAT));
    EXPECT_STREQ(lr.default_toml, "0.05");
    EXPECT_EQ(lr.min, 0.0);
    EXPECT_EQ(lr.max, 10.0);
    EXPECT_STREQ(d.fields[1]->spec().default_toml, "3");
    EXPECT_STREQ(d.fields[2]->spec().default_toml, "true");
    EXPECT_STREQ(d.fields[3]->spec().choices, "sgd|adam");
    EXPECT_STREQ(d.fields[4]->spec().default_toml, "\"say \\\"hi\\\"\""); // a TOML string literal
    EXPECT_STREQ(d.fields[5]->spec().default_toml, "[[0, 1], [2, 3]]");
    // Every default is a literal the host can parse back to the same value.
    for (auto* f : d.fields)
        EXPECT_TRUE(value_from_literal(f->spec().default_toml).has_value()) << f->name();
    EXPECT_EQ(value_from_literal(d.fields[4]->spec().default_toml)->s, "say \"hi\"");
}

TEST(DeclaredParams, TheHostFillsEveryFieldAndCopiesKeepTheirValues) {
    ParamSet set = set_of({{"lr", Value::of_float(0.2)},
                           {"epochs", Value::of_int(7)},
                           {"reset_optimizer", Value::of_bool(false)},
                           {"optimizer", Value::of_string("adam")},
                           {"tag", Value::of_string("x")},
                           {"tasks", *value_from_literal("[[4, 5], [6]]")}});
    DemoParams p = fill_params<DemoParams>(set);
    double lr = p.lr;
    int64_t epochs = p.epochs;
    EXPECT_EQ(lr, 0.2);
    EXPECT_EQ(epochs, 7);
    EXPECT_FALSE(p.reset());
    EXPECT_EQ(p.opt(), "adam");
    EXPECT_EQ(p.tasks.int_lists(), (std::vector<std::vector<int64_t>>{{4, 5}, {6}}));
    DemoParams copy = p; // a plugin keeps its Params as a member
    EXPECT_EQ(copy.opt(), "adam");
    EXPECT_EQ(double(copy.lr), 0.2);
    EXPECT_EQ(iclr::detail::Field::collector(), nullptr); // nothing left registering
}

TEST(DeclaredParams, AGetterTypoNamesTheClosestDeclaredParameter) {
    ParamSet set = set_of({{"lambda", Value::of_float(1.0)}, {"lr", Value::of_float(0.1)}});
    try {
        set.get_float("lamda");
        FAIL();
    } catch (const PluginError& e) {
        EXPECT_EQ(std::string(e.what()), "parameter 'lamda' is not in this plugin's schema (did you mean 'lambda'?): a "
                                         "typo in the plugin's code, not in the sweep");
    }
}

TEST(Training, GeneratorsAreSeededAndStreamsDiffer) {
    auto a = make_generator(5), b = make_generator(5), c = make_generator(5, 1);
    auto ra = torch::randperm(100, a), rb = torch::randperm(100, b), rc = torch::randperm(100, c);
    EXPECT_TRUE(torch::equal(ra, rb));
    EXPECT_FALSE(torch::equal(ra, rc));
}

TEST(Training, BatchesCoverEveryExampleOnceInASeededOrder) {
    Split s{torch::arange(10).to(torch::kFloat).unsqueeze(1), torch::arange(10)};
    auto g1 = make_generator(3), g2 = make_generator(3);
    std::multiset<int64_t> seen;
    std::vector<int64_t> sizes, first_order, second_order;
    for (const Batch& b : Batches(s, 4, g1)) {
        sizes.push_back(b.y.size(0));
        for (int64_t k = 0; k < b.y.size(0); ++k) {
            seen.insert(b.y[k].item<int64_t>());
            first_order.push_back(b.y[k].item<int64_t>());
            EXPECT_EQ(b.x[k][0].item<float>(), float(b.y[k].item<int64_t>())); // x and y stay paired
        }
    }
    EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
    EXPECT_EQ(seen, (std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    for (const Batch& b : Batches(s, 4, g2))
        for (int64_t k = 0; k < b.y.size(0); ++k)
            second_order.push_back(b.y[k].item<int64_t>());
    EXPECT_EQ(first_order, second_order);
    auto g3 = make_generator(3);
    BatchOptions drop;
    drop.drop_last = true;
    Batches dropped(s, 4, g3, nullptr, drop);
    EXPECT_EQ(dropped.size(), 2);
    auto g4 = make_generator(3);
    BatchOptions shift;
    shift.augment = [](const torch::Tensor& x) { return x + 100; };
    Batches augmented(s, 4, g4, nullptr, shift);
    EXPECT_GE((*augmented.begin()).x.min().item<float>(), 100.0f);
}

TEST(Training, TheSupervisedLoopFitsASeparableProblemAndCountsSteps) {
    torch::manual_seed(0);
    auto x = torch::randn({64, 1, 2, 2});
    auto y = (x.flatten(1).sum(1) > 0).to(torch::kLong);
    Benchmark b;
    b.num_classes = 2;
    b.input_shape = {1, 2, 2};
    b.tasks.push_back({"t", {0, 1}, {x, y}, {x, y}});
    test::TestContext ctx;
    auto model = test::make_plugin<Model>("models", "mlp", ctx, {{"width", "8"}, {"depth", "1"}});
    ClassifierLearner learner(model->build(b.input_shape, ctx), b);
    auto opt = make_optimizer("sgd", learner.trainable(), 0.1, 0.9);
    auto gen = make_generator(0);
    std::vector<double> losses;
    int64_t steps =
        train_supervised(learner, *opt, b.tasks[0].train, -1, 20, 16, gen, ctx, [&](double l) { losses.push_back(l); });
    EXPECT_EQ(steps, 20 * 4);
    EXPECT_EQ(losses.size(), 80u);
    EXPECT_LT(losses.back(), losses.front() * 0.5);
    EXPECT_GE(accuracy(learner, b.tasks[0].test, -1), 0.9);
    EXPECT_THROW(make_optimizer("rmsprop", learner.trainable(), 0.1), PluginError);
}

// frozen_copy: a ResNet (BatchNorm) whose running statistics and weights have moved; the copy
// holds both (a copy of parameters() alone gives other outputs in eval mode), has no gradients,
// is in eval mode, does not follow the original's later steps, and leaves torch's generator as it was.
TEST(Training, AFrozenCopyHoldsParametersAndBufferStatisticsAndMovesNoDraw) {
    iclr::test::TestContext ctx;
    iclr::test::SplitMnist s(ctx, "resnet", {{"width", "2"}, {"depth", "1"}});
    auto b = s.new_backbone();
    const auto& x = s.benchmark().tasks[0].train.x.slice(0, 0, 32);
    b->train();
    b->forward(x); // moves BatchNorm's running mean and variance
    torch::optim::SGD opt(b->parameters(), 0.1);
    b->forward(x).pow(2).mean().backward();
    opt.step();
    torch::manual_seed(5);
    double expected = torch::rand({1}).item<double>();
    torch::manual_seed(5);
    auto copy = iclr::frozen_copy(s, *b);
    EXPECT_EQ(torch::rand({1}).item<double>(), expected); // the copy's own initialisation moved no draw
    EXPECT_FALSE(copy->is_training());
    auto bp = b->named_parameters(), cp = copy->named_parameters();
    ASSERT_EQ(bp.size(), cp.size());
    for (const auto& p : bp) {
        EXPECT_TRUE(torch::equal(p.value(), cp[p.key()])) << p.key();
        EXPECT_FALSE(cp[p.key()].requires_grad()) << p.key();
    }
    auto bb = b->named_buffers(), cb = copy->named_buffers();
    ASSERT_GT(bb.size(), 0u);
    for (const auto& buf : bb)
        EXPECT_TRUE(torch::equal(buf.value(), cb[buf.key()])) << buf.key();
    b->eval();
    auto before = b->forward(x).detach();
    EXPECT_TRUE(torch::equal(copy->forward(x), before));
    // Parameters alone (the buffers left at their initial values): other outputs in eval mode.
    auto params_only = s.new_backbone();
    {
        torch::NoGradGuard no_grad;
        for (const auto& p : params_only->named_parameters())
            p.value().copy_(bp[p.key()]);
    }
    params_only->eval();
    EXPECT_FALSE(torch::allclose(params_only->forward(x), before, 1e-4, 1e-4));
    // The original trains on; the copy stays where it was.
    b->train();
    b->forward(x).pow(2).mean().backward();
    opt.step();
    EXPECT_TRUE(torch::equal(copy->forward(x), before));
}

// Algorithm R (LUMP, DER, A-GEM and replay keep their memories with it): after a stream of n
// examples, each is in a buffer of k slots with probability k / n, the first k as much as the last.
// 100,000 streams of 50 through 10 slots: each of the 50 frequencies within 5 standard errors of 0.2
// (0.0013 each). A reservoir that kept its first examples is far outside; one that drew from
// [0, seen] instead of [0, seen - 1] keeps each of its first 10 with probability 11 / 51 = 0.216,
// 12 standard errors out.
TEST(Replay, EveryExampleOfAStreamIsKeptWithProbabilityCapacityOverLength) {
    const int64_t n = 50, k = 10, streams = 100000;
    std::vector<int64_t> kept(n, 0);
    std::mt19937_64 rng(7);
    for (int64_t s = 0; s < streams; ++s) {
        ReservoirSlots slots(k);
        std::vector<int64_t> held(k, -1);
        for (int64_t i = 0; i < n; ++i)
            if (int64_t j = slots.next(rng); j >= 0) held[size_t(j)] = i;
        for (int64_t i : held) {
            ASSERT_GE(i, 0); // every slot filled
            ++kept[size_t(i)];
        }
    }
    const double p = double(k) / double(n), se = std::sqrt(p * (1 - p) / double(streams));
    for (int64_t i = 0; i < n; ++i)
        EXPECT_NEAR(double(kept[size_t(i)]) / double(streams), p, 5 * se) << "example " << i;
    // The buffer of tensors follows the same slots: full at k, every kept row one of the stream's.
    ReservoirBuffer buffer(k);
    std::mt19937_64 r2(1);
    buffer.add(torch::arange(n, torch::kFloat32).unsqueeze(1), torch::arange(n), r2);
    EXPECT_EQ(buffer.size(), k);
    auto [x, y] = buffer.sample(5, r2);
    ASSERT_EQ(x.size(0), 5);
    EXPECT_TRUE(torch::equal(x.squeeze(1).to(torch::kInt64), y));
}
