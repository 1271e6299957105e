// Names the CPU kernels a worker computes with (see kernels.hpp), once when it starts.
#include "exec/worker/kernels.hpp"

#include <dlfcn.h>

#include <ATen/Version.h>
#include <sstream>

namespace iclr::worker {
namespace {

// OpenBLAS's version words ("OpenBLAS 0.3.21") and the kernel set its dynamic dispatch chose for
// this CPU (its corename: "Haswell", "SkylakeX", "Zen"); for another BLAS, the file providing
// sgemm_, which libtorch calls for float matrix products.
std::string blas() {
    using Text = char* (*)();
    auto config = reinterpret_cast<Text>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    auto core = reinterpret_cast<Text>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (config && core) {
        std::istringstream words(config());
        std::string name, version;
        words >> name >> version;
        return name + " " + version + " " + core();
    }
    Dl_info info{};
    void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
    if (sgemm && dladdr(sgemm, &info) && info.dli_fname) return std::string("BLAS ") + info.dli_fname;
    return "BLAS unknown";
}

// ATen states the instruction set its dispatch uses in its build summary ("CPU capability usage:
// AVX2"); get_cpu_capability() itself is not exported by libtorch 1.13.
std::string aten() {
    const std::string config = at::show_config();
    const std::string label = "CPU capability usage: ";
    auto at = config.find(label);
    if (at == std::string::npos) return "ATen unknown";
    auto from = at + label.size();
    return "ATen " + config.substr(from, config.find('\n', from) - from);
}

} // namespace

std::string compute_kernels() { return blas() + ", " + aten(); }

} // namespace iclr::worker
