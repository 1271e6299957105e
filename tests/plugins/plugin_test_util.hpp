// Loads built plugin libraries in-process (as the worker does) with a RunContext for tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "iclr/sdk.hpp"
#include "plugin/plugin_loader.hpp"
#include "common/values.hpp"

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

} // namespace iclr::test
