// ICLR_PLUGIN: declares a plugin's C entry point, metadata, parameter schema and factory.
#pragma once

#include <cstdio>
#include <cstring>
#include <exception>

#include <boost/config.hpp>
#include <torch/version.h>

#include "iclr/abi.h"
#include "iclr/c_boundary.hpp"
#include "iclr/dataset.hpp"
#include "iclr/method.hpp"
#include "iclr/metric.hpp"
#include "iclr/model.hpp"

#define ICLR_STR2(x) #x
#define ICLR_STR(x) ICLR_STR2(x)
#define ICLR_TORCH_VERSION_STRING                                                                                      \
    ICLR_STR(TORCH_VERSION_MAJOR) "." ICLR_STR(TORCH_VERSION_MINOR) "." ICLR_STR(TORCH_VERSION_PATCH)

// Parameter declarations for ICLR_PLUGIN. Defaults are written as TOML literals:
//   ICLR_INT("width", 256, 1, 65536, "units per hidden layer")
//   ICLR_FLOAT("lr", 0.01, 0.0, 10.0, "learning rate")
//   ICLR_BOOL("task_incremental", true, "mask logits to the task's classes")
//   ICLR_STRING("pool", "cls", "cls|gap", "how tokens become features")   (choices may be nullptr)
//   ICLR_LIST("tasks", "[[0,1],[2,3]]", "class ids of each task")
#define ICLR_INT(name, def, lo, hi, help)                                                                              \
    iclr_param_spec { name, ICLR_PARAM_INT, #def, double(lo), double(hi), nullptr, help }
#define ICLR_FLOAT(name, def, lo, hi, help)                                                                            \
    iclr_param_spec { name, ICLR_PARAM_FLOAT, #def, lo, hi, nullptr, help }
#define ICLR_BOOL(name, def, help)                                                                                     \
    iclr_param_spec { name, ICLR_PARAM_BOOL, #def, 1.0, 0.0, nullptr, help }
#define ICLR_STRING(name, def, choices, help)                                                                          \
    iclr_param_spec { name, ICLR_PARAM_STRING, #def, 1.0, 0.0, choices, help }
#define ICLR_LIST(name, def_toml, help)                                                                                \
    iclr_param_spec { name, ICLR_PARAM_LIST, def_toml, 1.0, 0.0, nullptr, help }

namespace iclr::detail {

template <class Interface> constexpr uint32_t kind_of();
template <> constexpr uint32_t kind_of<Dataset>() { return ICLR_KIND_DATASET; }
template <> constexpr uint32_t kind_of<Model>() { return ICLR_KIND_MODEL; }
template <> constexpr uint32_t kind_of<Method>() { return ICLR_KIND_METHOD; }
template <> constexpr uint32_t kind_of<Metric>() { return ICLR_KIND_METRIC; }

// The C-boundary factory: no exception escapes; the interface pointer travels as void*.
template <class Interface, class Impl> void* create(const void* params, void* ctx, char* err, uint32_t len) noexcept {
    Interface* obj = nullptr;
    guarded(err, len, [&] { obj = new Impl(*static_cast<const ParamSet*>(params), *static_cast<RunContext*>(ctx)); });
    return static_cast<void*>(obj);
}

} // namespace iclr::detail

// One per plugin library. CLASS derives from KIND (iclr::Dataset/Model/Method/Metric) and has a
// constructor CLASS(const iclr::ParamSet&, iclr::RunContext&). Only iclr_plugin_entry is exported.
#define ICLR_PLUGIN(KIND, CLASS, NAME, VERSION, CITATION, SUMMARY, ...)                                                \
    namespace {                                                                                                        \
    const iclr_param_spec iclr_params_[] = {__VA_OPT__(__VA_ARGS__, ) iclr_param_spec{}};                              \
    const iclr_plugin_info iclr_info_ = {ICLR_ABI_MAJOR,                                                               \
                                         ICLR_ABI_MINOR,                                                               \
                                         sizeof(iclr_plugin_info),                                                     \
                                         ::iclr::detail::kind_of<KIND>(),                                              \
                                         NAME,                                                                         \
                                         VERSION,                                                                      \
                                         CITATION,                                                                     \
                                         SUMMARY,                                                                      \
                                         iclr_params_,                                                                 \
                                         uint32_t(sizeof(iclr_params_) / sizeof(iclr_params_[0]) - 1),                 \
                                         "gcc " __VERSION__,                                                           \
                                         ICLR_TORCH_VERSION_STRING,                                                    \
                                         _GLIBCXX_USE_CXX11_ABI,                                                       \
                                         nullptr,                                                                      \
                                         &::iclr::detail::create<KIND, CLASS>};                                        \
    }                                                                                                                  \
    extern "C" BOOST_SYMBOL_EXPORT const iclr_plugin_info* iclr_plugin_entry() { return &iclr_info_; }
