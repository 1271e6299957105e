// Loads built plugin libraries in-process (as the worker does), with a RunContext and a real Split
// MNIST session for tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>

#include "common/values.hpp"
#include "iclr/sdk.hpp"
#include "plugin/plugin_loader.hpp"
#include "test_paths.hpp"

namespace iclr::test {

class TestContext : public RunContext {
  public:
    explicit TestContext(std::filesystem::path cache = std::filesystem::temp_directory_path())
        : cache_(std::move(cache)) {}
    int64_t run_id() const override { return 1; }
    uint64_t seed() const override { return 0; }
    const std::string& device() const override { return device_; }
    int threads() const override { return 1; }
    void log(std::string_view key, double value, int64_t step, int64_t task) override {
        logged.push_back({std::string(key), value, step, task});
    }
    void info(std::string_view m) override { infos.emplace_back(m); }
    void set_attribute(std::string_view k, std::string_view v) override { attributes[std::string(k)] = std::string(v); }
    std::filesystem::path cache_dir() const override { return cache_; }
    std::filesystem::path data_dir() const override {
        const char* d = std::getenv("ICLR_DATA");
        return d && *d ? std::filesystem::path(d) : std::filesystem::path(ICLR_TEST_SOURCE_DIR) / "data";
    }
    std::filesystem::path run_dir() const override { return cache_; }
    void add_artifact(std::string_view, const std::filesystem::path&) override {}
    bool cancelled() const override { return false; }

    struct Row {
        std::string key;
        double value;
        int64_t step, task;
    };
    std::vector<Row> logged;
    std::vector<std::string> infos;
    std::map<std::string, std::string> attributes;

  private:
    std::string device_ = "cpu";
    std::filesystem::path cache_;
};

// The values of `key` the context logged, in order.
inline std::vector<double> logged_values(const TestContext& ctx, const std::string& key) {
    std::vector<double> out;
    for (const auto& r : ctx.logged)
        if (r.key == key) out.push_back(r.value);
    return out;
}

// Creates the plugin in build/plugins/<folder>/<name>.so with the schema defaults overridden by
// `overrides` (TOML literals), as the host would resolve them.
template <class T>
std::unique_ptr<T> make_plugin(const std::string& folder, const std::string& name, RunContext& ctx,
                               const std::map<std::string, std::string>& overrides = {}) {
    LoadedPlugin p = load_plugin(std::string(ICLR_PLUGIN_BUILD_DIR) + "/" + folder + "/" + name + ".so");
    if (!p.record.ok) throw std::runtime_error(p.record.error);
    ParamSet params;
    for (const auto& s : p.record.params)
        params.values[s.name] = s.default_value;
    for (const auto& [k, lit] : overrides) {
        auto v = value_from_literal(lit);
        if (!v) throw std::runtime_error("bad literal " + lit);
        if (p.record.param(k) && p.record.param(k)->type == ICLR_PARAM_FLOAT && v->type == Value::Type::Int)
            v = Value::of_float(double(v->i));
        params.values[k] = *v;
    }
    char err[512] = {0};
    void* obj = p.info->create(&params, &ctx, err, sizeof err);
    if (!obj) throw std::runtime_error(err);
    return std::unique_ptr<T>(static_cast<T*>(obj));
}

// Split MNIST (0/1 then 2/3, 100 training images per class) with a model, snapshotting every
// trainable tensor at each TaskEnd and running the given metrics.
class SplitMnist : public Session {
  public:
    SplitMnist(TestContext& ctx, const std::string& model = "mlp",
               std::map<std::string, std::string> model_params = {{"width", "32"}, {"depth", "1"}})
        : ctx_(ctx), model_(make_plugin<Model>("models", model, ctx, model_params)),
          bench_(make_plugin<Dataset>(
                     "datasets", "mnist", ctx,
                     {{"tasks", "[[0, 1], [2, 3]]"}, {"train_per_class", "100"}, {"test_per_class", "50"}})
                     ->load(ctx)) {
        torch::manual_seed(0);
    }
    const Benchmark& benchmark() override { return bench_; }
    std::shared_ptr<Backbone> new_backbone() override { return model_->build(bench_.input_shape, ctx_); }
    void notify(const Event& e, Learner& learner) override {
        for (auto& m : metrics)
            m->on_event(e, learner, bench_, ctx_);
        if (e.kind != EventKind::TaskEnd) return;
        std::vector<torch::Tensor> copy;
        for (auto& p : learner.trainable())
            copy.push_back(p.detach().clone());
        snapshots.push_back(copy);
        if (on_task_end) on_task_end(e, learner);
    }
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override { return nullptr; }
    std::string config_text(const std::string&) override { return ""; }

    std::vector<std::vector<torch::Tensor>> snapshots;
    std::vector<std::unique_ptr<Metric>> metrics;
    std::function<void(const Event&, Learner&)> on_task_end;

  private:
    TestContext& ctx_;
    std::unique_ptr<Model> model_;
    Benchmark bench_;
};

// Few-shot episodes from the fewshot data set (dataset overrides as given) with a cnn backbone of
// `width`; at End, on_end (if set) sees the learner, then the metrics run.
class FewshotSession : public Session {
  public:
    FewshotSession(TestContext& ctx, const std::string& width, std::map<std::string, std::string> dataset)
        : ctx_(ctx), model_(make_plugin<Model>("models", "cnn", ctx, {{"width", width}})),
          bench_(make_plugin<Dataset>("datasets", "fewshot", ctx, std::move(dataset))->load(ctx)) {}
    const Benchmark& benchmark() override { return bench_; }
    std::shared_ptr<Backbone> new_backbone() override { return model_->build(bench_.input_shape, ctx_); }
    void notify(const Event& e, Learner& learner) override {
        if (e.kind == EventKind::End && on_end) on_end(learner);
        for (auto& m : metrics)
            m->on_event(e, learner, bench_, ctx_);
    }
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override { return nullptr; }
    std::string config_text(const std::string&) override { return ""; }

    std::vector<std::unique_ptr<Metric>> metrics;
    std::function<void(Learner&)> on_end;

  private:
    TestContext& ctx_;
    std::unique_ptr<Model> model_;
    Benchmark bench_;
};

// Two lists of tensors, equal bit for bit.
inline bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!torch::equal(a[i], b[i])) return false;
    return true;
}

// Features = the input, flattened: metrics see exactly the matrix a test constructs.
struct FlatBackbone : Backbone {
    explicit FlatBackbone(int64_t d) : d_(d) {}
    torch::Tensor forward(const torch::Tensor& x) override { return x.flatten(1); }
    int64_t feature_dim() const override { return d_; }
    int64_t d_;
};
struct FlatLearner : Learner {
    explicit FlatLearner(int64_t d) : b(std::make_shared<FlatBackbone>(d)) {}
    std::shared_ptr<FlatBackbone> b;
    Backbone& backbone() override { return *b; }
    torch::Tensor logits(const torch::Tensor& x, int64_t) override { return x.flatten(1); }
    std::vector<torch::Tensor> trainable() override { return {}; }
};

} // namespace iclr::test
