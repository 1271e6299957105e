// A Session over a benchmark the test built, with no metrics; new_backbone() builds from `model`
// and pretrain_benchmark() returns `pretrain` when the test gives them (refuses / nullptr otherwise);
// each event goes to `on_event` when the test sets it.
#pragma once

#include <functional>
#include <optional>

#include "plugin_test_util.hpp"

namespace iclr::test {

struct BenchmarkSession : Session {
    BenchmarkSession(TestContext& c, Benchmark b) : ctx_(c), b_(std::move(b)) {}
    const Benchmark& benchmark() override { return b_; }
    std::shared_ptr<Backbone> new_backbone() override {
        if (!model) throw PluginError("this test session has no model");
        return model->build(b_.input_shape, ctx_);
    }
    void notify(const Event& e, Learner& learner) override {
        if (on_event) on_event(e, learner);
    }
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override { return pretrain ? &*pretrain : nullptr; }
    std::string config_text(const std::string&) override { return ""; }
    TestContext& ctx_;
    Benchmark b_;
    std::unique_ptr<Model> model;
    std::optional<Benchmark> pretrain; // the [pretrain] set, when the test gives one
    std::function<void(const Event&, Learner&)> on_event;
};

} // namespace iclr::test
