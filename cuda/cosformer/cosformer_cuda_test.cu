// Checks the cosFormer CUDA kernels against the CPU reference and times them for N = 64 … 65,536.
// First, with or without a GPU: the reference's linear form equals its quadratic form. Then, on a
// device: the kernel's output against the linear reference, and the median time per forward, one
// JSON object per line, with the exponent of time ~ N^k fitted over N >= 1,024. Exit status: 0 all
// agree, 1 a mismatch, 77 no CUDA device (ctest reports "skipped"; the CPU check still ran).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cosformer_cuda.h"
#include "cosformer_reference.hpp"

namespace {

std::vector<float> random_values(size_t n, uint64_t seed) {
    std::vector<float> out(n);
    for (auto& x : out) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        x = float(double(seed >> 11) / double(1ULL << 53) * 2.0 - 1.0);
    }
    return out;
}

double max_relative_gap(const std::vector<double>& a, const std::vector<double>& b) {
    double gap = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        gap = std::max(gap, std::abs(a[i] - b[i]));
        scale = std::max(scale, std::abs(b[i]));
    }
    return gap / std::max(scale, 1e-30);
}

bool reference_forms_agree() {
    bool ok = true;
    for (int length : {1, 7, 64, 300}) {
        int heads = 2, dim = 16;
        size_t n = size_t(heads) * length * dim;
        auto q = random_values(n, 1), k = random_values(n, 2), v = random_values(n, 3);
        double gap = max_relative_gap(cosformer_ref::linear(q, k, v, heads, length, dim, 1e-6),
                                      cosformer_ref::quadratic(q, k, v, heads, length, dim, 1e-6));
        std::printf("{\"check\": \"cpu linear vs quadratic\", \"n\": %d, \"max_rel_gap\": %.3g}\n", length, gap);
        ok = ok && gap < 1e-9;
    }
    return ok;
}

#define CHECK_CUDA(call)                                                                                               \
    do {                                                                                                               \
        cudaError_t e_ = (call);                                                                                       \
        if (e_ != cudaSuccess) {                                                                                       \
            std::fprintf(stderr, "cosformer_cuda_test: %s: %s\n", #call, cudaGetErrorString(e_));                      \
            return -1.0;                                                                                               \
        }                                                                                                              \
    } while (0)

// The kernel on N rows: returns the median milliseconds of `reps` forwards (-1 on a CUDA error) and
// sets `gap` to the output's largest deviation from the reference, relative to its largest value.
double run_on_device(int heads, int length, int dim, int reps, double& gap) {
    size_t n = size_t(heads) * length * dim;
    auto q = random_values(n, 11), k = random_values(n, 12), v = random_values(n, 13);
    float *dq, *dk, *dv, *dout, *dwork;
    CHECK_CUDA(cudaMalloc(&dq, n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&dk, n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&dv, n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&dout, n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&dwork, iclr_cosformer_work_floats(heads, dim) * sizeof(float)));
    CHECK_CUDA(cudaMemcpy(dq, q.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dk, k.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dv, v.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CHECK_CUDA(iclr_cosformer_forward(dq, dk, dv, dout, dwork, heads, length, dim, 1e-6f, nullptr));
    std::vector<float> out(n);
    CHECK_CUDA(cudaMemcpy(out.data(), dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    gap = max_relative_gap(std::vector<double>(out.begin(), out.end()),
                           cosformer_ref::linear(q, k, v, heads, length, dim, 1e-6));
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    std::vector<float> ms;
    for (int r = 0; r < reps; ++r) {
        CHECK_CUDA(cudaEventRecord(start));
        CHECK_CUDA(iclr_cosformer_forward(dq, dk, dv, dout, dwork, heads, length, dim, 1e-6f, nullptr));
        CHECK_CUDA(cudaEventRecord(stop));
        CHECK_CUDA(cudaEventSynchronize(stop));
        float t = 0;
        CHECK_CUDA(cudaEventElapsedTime(&t, start, stop));
        ms.push_back(t);
    }
    for (float* p : {dq, dk, dv, dout, dwork})
        cudaFree(p);
    std::nth_element(ms.begin(), ms.begin() + reps / 2, ms.end());
    return ms[size_t(reps / 2)];
}

} // namespace

int main(int argc, char** argv) {
    // An optional largest N (default 65,536): the memory and race checkers run the test at a smaller one.
    const int max_length = argc > 1 ? std::atoi(argv[1]) : 65536;
    if (max_length < 4096) { // the exponent is fitted over N >= 1,024: two sizes (1,024, 4,096) at least
        std::fprintf(stderr, "cosformer_cuda_test: the largest N must be a number >= 4096, not '%s'\n", argv[1]);
        return 2;
    }
    if (!reference_forms_agree()) {
        std::fprintf(stderr, "cosformer_cuda_test: the reference's linear and quadratic forms disagree\n");
        return 1;
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("{\"cuda\": \"no device: kernel compiled, not run\"}\n");
        return 77;
    }
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    std::printf("{\"device\": \"%s\", \"sm\": %d%d}\n", prop.name, prop.major, prop.minor);
    const int heads = 4, dim = 64;
    std::vector<double> logn, logt;
    bool ok = true;
    for (int length = 64; length <= max_length; length *= 4) {
        double gap = 0;
        double ms = run_on_device(heads, length, dim, 20, gap);
        if (ms < 0) return 1;
        std::printf("{\"n\": %d, \"heads\": %d, \"dim\": %d, \"median_ms\": %.4f, \"max_rel_err\": %.3g}\n", length,
                    heads, dim, ms, gap);
        ok = ok && gap < 1e-4;
        if (length >= 1024) {
            logn.push_back(std::log(double(length)));
            logt.push_back(std::log(ms));
        }
    }
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (size_t i = 0; i < logn.size(); ++i) {
        mx += logn[i] / double(logn.size());
        my += logt[i] / double(logt.size());
    }
    for (size_t i = 0; i < logn.size(); ++i) {
        sxy += (logn[i] - mx) * (logt[i] - my);
        sxx += (logn[i] - mx) * (logn[i] - mx);
    }
    std::printf("{\"exponent\": %.3f, \"fit\": \"log time vs log N, N >= 1024\"}\n", sxy / sxx);
    if (!ok) std::fprintf(stderr, "cosformer_cuda_test: the kernel's output differs from the reference by > 1e-4\n");
    return ok ? 0 : 1;
}
