// A Session over a benchmark the test built, for methods that bring their own networks (no
// [model]: new_backbone() refuses), with no metrics and no pretraining set.
#pragma once

#include "plugin_test_util.hpp"

namespace iclr::test {

struct BenchmarkSession : Session {
    BenchmarkSession(TestContext& c, Benchmark b) : ctx_(c), b_(std::move(b)) {}
    const Benchmark& benchmark() override { return b_; }
    std::shared_ptr<Backbone> new_backbone() override { throw PluginError("this test session has no model"); }
    void notify(const Event&, Learner&) override {}
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override { return nullptr; }
    std::string config_text(const std::string&) override { return ""; }
    TestContext& ctx_;
    Benchmark b_;
};

} // namespace iclr::test
