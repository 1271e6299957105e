// cosFormer linear attention (Qin et al., ICLR 2022) on raw CUDA device buffers: no libtorch, so a
// user with any CUDA toolchain can build and time it (iclr/cosformer.hpp is the torch version).
#pragma once

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// q, k, v, out: device pointers to [heads, length, dim] float32, row-major, contiguous.
// work: device scratch of iclr_cosformer_work_floats(heads, dim) floats.
// out[h, i] = Σ_j s(i, j) v[h, j] / max(Σ_j s(i, j), eps), s(i, j) = ReLU(q_i)·ReLU(k_j)·cos(π/2·(i − j)/length),
// computed in O(length · dim²) by the sin/cos decomposition. dim ≤ 256. Returns the launch error.
cudaError_t iclr_cosformer_forward(const float* q, const float* k, const float* v, float* out, float* work, int heads,
                                   int length, int dim, float eps, cudaStream_t stream);
size_t iclr_cosformer_work_floats(int heads, int dim);

#ifdef __cplusplus
}
#endif
