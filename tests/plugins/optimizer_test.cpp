// make_optimizer's optimisers drop the gradients after each step (iclr::ReleasingGrads, for speed)
// and its SGD updates each weight in one pass (iclr::FusedSgd): on real MNIST batches they must move
// the weights exactly as libtorch's own optimisers do, bit for bit, and leave no gradient behind for
// the next backward to add to.
#include "plugin_test_util.hpp"

using namespace iclr;
using namespace iclr::test;

namespace {

struct Net {
    explicit Net(uint64_t seed) {
        torch::manual_seed(seed);
        body = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 64), torch::nn::ReLU(),
                                     torch::nn::Linear(64, 10));
    }
    std::vector<torch::Tensor> params() { return body->parameters(); }
    torch::nn::Sequential body{nullptr};
};

// Trains two identical nets on the same 20 MNIST batches, one with libtorch's optimiser and one with
// make_optimizer's; returns whether every weight is equal after each step, and whether gradients
// were left on the released side.
struct Race {
    bool equal = true, grads_left = false;
    int64_t fused = -1; // FusedSgd's one-pass updates (-1: another optimiser)
};

Race race(const std::string& kind, std::unique_ptr<torch::optim::Optimizer> reference, Net& a, Net& b, double lr,
          double momentum, double wd) {
    TestContext ctx;
    auto bench = make_plugin<Dataset>("datasets", "mnist", ctx, {{"train_per_class", "64"}})->load(ctx);
    const Split& train = bench.tasks.at(0).train;
    auto ours = make_optimizer(kind, b.params(), lr, momentum, wd);
    Race r;
    for (int64_t k = 0; k < 20; ++k) {
        auto x = train.x.slice(0, k * 32, (k + 1) * 32), y = train.y.slice(0, k * 32, (k + 1) * 32);
        optimizer_step(*reference, [&] { return torch::nn::functional::cross_entropy(a.body->forward(x), y); });
        optimizer_step(*ours, [&] { return torch::nn::functional::cross_entropy(b.body->forward(x), y); });
        auto pa = a.params(), pb = b.params();
        for (size_t i = 0; i < pa.size(); ++i) {
            r.equal = r.equal && torch::equal(pa[i], pb[i]);
            r.grads_left = r.grads_left || pb[i].grad().defined();
        }
    }
    if (auto* f = dynamic_cast<FusedSgd*>(ours.get())) r.fused = f->fused_updates();
    return r;
}

} // namespace

TEST(Optimizers, SgdWithMomentumAndDecayMatchesLibtorchBitForBit) {
    Net a(7), b(7);
    auto ref = std::make_unique<torch::optim::SGD>(a.params(),
                                                   torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-4));
    Race r = race("sgd", std::move(ref), a, b, 0.05, 0.9, 1e-4);
    EXPECT_TRUE(r.equal);
    EXPECT_FALSE(r.grads_left);
    // The one-pass update is what was compared (where libtorch's vector kernels fuse multiply-adds):
    // every step after the first, which creates the momentum buffers, for each of the 4 weights,
    // the 10-element bias included (its update is all tail).
    if (iclr::detail::fused_sgd_available()) {
        EXPECT_EQ(r.fused, 19 * 4);
    }
}

// With two threads both sides split the update (libtorch's add_ and FusedSgd's blocks): the split
// must not change a bit either.
TEST(Optimizers, SgdOnTwoThreadsMatchesLibtorchBitForBit) {
    int threads = torch::get_num_threads();
    torch::set_num_threads(2);
    Net a(11), b(11);
    auto ref = std::make_unique<torch::optim::SGD>(a.params(), torch::optim::SGDOptions(0.03).momentum(0.9));
    Race r = race("sgd", std::move(ref), a, b, 0.03, 0.9, 0.0);
    torch::set_num_threads(threads);
    EXPECT_TRUE(r.equal);
    if (iclr::detail::fused_sgd_available()) {
        EXPECT_EQ(r.fused, 19 * 4);
    }
}

TEST(Optimizers, AdamAndAdamWMatchLibtorchBitForBit) {
    {
        Net a(8), b(8);
        auto ref = std::make_unique<torch::optim::Adam>(a.params(), torch::optim::AdamOptions(1e-3).weight_decay(1e-4));
        Race r = race("adam", std::move(ref), a, b, 1e-3, 0.0, 1e-4);
        EXPECT_TRUE(r.equal);
        EXPECT_FALSE(r.grads_left);
    }
    {
        Net a(9), b(9);
        auto ref =
            std::make_unique<torch::optim::AdamW>(a.params(), torch::optim::AdamWOptions(1e-3).weight_decay(0.05));
        Race r = race("adamw", std::move(ref), a, b, 1e-3, 0.0, 0.05);
        EXPECT_TRUE(r.equal);
        EXPECT_FALSE(r.grads_left);
    }
}

// The weights really move (a race between two frozen nets would pass the equality above trivially).
TEST(Optimizers, TheReleasedSgdTrains) {
    Net a(7), b(7);
    auto before = b.params()[0].clone();
    auto ref = std::make_unique<torch::optim::SGD>(a.params(), torch::optim::SGDOptions(0.05).momentum(0.9));
    race("sgd", std::move(ref), a, b, 0.05, 0.9, 0.0);
    EXPECT_GT((b.params()[0] - before).abs().max().item<double>(), 1e-4);
}
