// Seeds libtorch's global generator before every plugin test, as the worker does before every trial
// (worker_main.cpp: manual_seed(trial seed) before a plugin is created and again before it runs).
// LibTorch seeds its default CPU generator from the OS at start-up, so a test that builds a network
// without seeding drew different weights in every process: SimVlm's end-to-end test saw a token
// accuracy of 0 in one ctest run out of many.
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

class SeedEachTest : public testing::EmptyTestEventListener {
    void OnTestStart(const testing::TestInfo&) override { torch::manual_seed(0); } // TestContext::seed()
};

const bool registered = [] {
    testing::UnitTest::GetInstance()->listeners().Append(new SeedEachTest);
    return true;
}();

} // namespace
