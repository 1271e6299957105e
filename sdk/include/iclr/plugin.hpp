// ICLR_PLUGIN: declares a plugin's C entry point, metadata, parameter schema and factory.
#pragma once

#include <concepts>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <boost/config.hpp>
#include <torch/version.h>

#include "iclr/abi.h"
#include "iclr/c_boundary.hpp"
#include "iclr/dataset.hpp"
#include "iclr/declare.hpp"
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

// The folder the plugin was built from, when its build says so: iclr_add_plugin compiles a one-line
// file defining this into the library (cmake/IclrPluginTarget.cmake), so that the plugin's own
// objects hold no path and a compiler cache can share them between checkouts (under ccache's
// base_dir, __FILE__ is relative). Weak: a library built without it falls back to __FILE__'s folder.
extern "C" __attribute__((weak, visibility("hidden"))) const char* iclr_plugin_source_dir();

namespace iclr::detail {

template <class Interface> constexpr uint32_t kind_of();
template <> constexpr uint32_t kind_of<Dataset>() { return ICLR_KIND_DATASET; }
template <> constexpr uint32_t kind_of<Model>() { return ICLR_KIND_MODEL; }
template <> constexpr uint32_t kind_of<Method>() { return ICLR_KIND_METHOD; }
template <> constexpr uint32_t kind_of<Metric>() { return ICLR_KIND_METRIC; }

// A method class that reads the sweep's [pretrain] data set says so, once, in its class:
//   static constexpr bool reads_pretrain = true;
// (PretrainedMethod does for its subclasses). The trials of any other method leave [pretrain] out
// of their config and key: a sweep's pretraining data cannot change what such a method computes.
template <class Impl>
concept ReadsPretrain = requires {
    { Impl::reads_pretrain } -> std::convertible_to<bool>;
}
&&Impl::reads_pretrain;

// A plugin class with a nested `Params` struct of iclr::Int/Float/... fields (declare.hpp).
template <class Impl>
concept HasParams = requires {
    typename Impl::Params;
};

// The C-boundary factory: no exception escapes; the interface pointer travels as void*.
template <class Interface, class Impl> void* create(const void* params, void* ctx, char* err, uint32_t len) noexcept {
    Interface* obj = nullptr;
    guarded(err, len, [&] {
        const ParamSet& set = *static_cast<const ParamSet*>(params);
        RunContext& c = *static_cast<RunContext*>(ctx);
        if constexpr (HasParams<Impl>)
            obj = new Impl(fill_params<typename Impl::Params>(set), c);
        else
            obj = new Impl(set, c);
    });
    return static_cast<void*>(obj);
}

// A typed plugin's schema, read once from a default-constructed Params (which keeps the
// default literals alive for the host to read).
template <class Impl> const std::vector<iclr_param_spec>& typed_schema() {
    static const Declared<typename Impl::Params> declared;
    static const std::vector<iclr_param_spec> specs = [] {
        std::vector<iclr_param_spec> v;
        for (const Field* f : declared.fields)
            v.push_back(f->spec());
        v.push_back(iclr_param_spec{});
        return v;
    }();
    return specs;
}

inline std::string directory_of(const char* file) {
    std::string f = file;
    auto slash = f.rfind('/');
    return slash == std::string::npos ? std::string(".") : f.substr(0, slash);
}

template <class Interface, class Impl>
const iclr_plugin_info* plugin_info(const char* name, const char* version, const char* citation, const char* summary,
                                    const iclr_param_spec* listed, uint32_t n_listed, const char* file) {
    static const std::string source_dir = iclr_plugin_source_dir ? iclr_plugin_source_dir() : directory_of(file);
    static const iclr_plugin_info info = [&] {
        const iclr_param_spec* params = listed;
        uint32_t n = n_listed;
        if constexpr (HasParams<Impl>) {
            params = typed_schema<Impl>().data();
            n = uint32_t(typed_schema<Impl>().size() - 1);
        }
        return iclr_plugin_info{ICLR_ABI_MAJOR,
                                ICLR_ABI_MINOR,
                                sizeof(iclr_plugin_info),
                                kind_of<Interface>(),
                                name,
                                version,
                                citation,
                                summary,
                                params,
                                n,
                                "gcc " __VERSION__,
                                ICLR_TORCH_VERSION_STRING,
                                _GLIBCXX_USE_CXX11_ABI,
                                nullptr,
                                &create<Interface, Impl>,
                                source_dir.c_str(),
                                ReadsPretrain<Impl> ? ICLR_FLAG_READS_PRETRAIN : 0u};
    }();
    return &info;
}

} // namespace iclr::detail

// One per plugin library. CLASS derives from KIND (iclr::Dataset/Model/Method/Metric) and either
//  - has a nested `struct Params` of iclr::Int/Float/Bool/String/List fields (declare.hpp) and a
//    constructor CLASS(const CLASS::Params&, iclr::RunContext&): the schema comes from Params
//    (the preferred way: each parameter is declared once), or
//  - lists its parameters here with ICLR_INT/ICLR_FLOAT/... and has a constructor
//    CLASS(const iclr::ParamSet&, iclr::RunContext&) that reads them with get_int(...) etc.
// Only iclr_plugin_entry is exported; the entry also records the plugin's source folder, so
// `iclr plugins` can say when a library is older than its sources.
#define ICLR_PLUGIN(KIND, CLASS, NAME, VERSION, CITATION, SUMMARY, ...)                                                \
    namespace {                                                                                                        \
    const iclr_param_spec iclr_params_[] = {__VA_OPT__(__VA_ARGS__, ) iclr_param_spec{}};                              \
    constexpr uint32_t iclr_n_params_ = uint32_t(sizeof(iclr_params_) / sizeof(iclr_params_[0]) - 1);                  \
    static_assert(!(::iclr::detail::HasParams<CLASS> && iclr_n_params_ > 0),                                           \
                  "declare parameters once: a Params struct or ICLR_INT/ICLR_FLOAT/... in ICLR_PLUGIN, not both");     \
    }                                                                                                                  \
    extern "C" BOOST_SYMBOL_EXPORT const iclr_plugin_info* iclr_plugin_entry() {                                       \
        return ::iclr::detail::plugin_info<KIND, CLASS>(NAME, VERSION, CITATION, SUMMARY, iclr_params_,                \
                                                        iclr_n_params_, __FILE__);                                     \
    }
