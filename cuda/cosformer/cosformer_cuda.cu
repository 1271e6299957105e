// The two kernels of cosFormer's linear attention: reduce K̃ᵀV and Σ K̃ over the sequence, then
// one output row per block from its query's sin/cos parts.
#include "cosformer_cuda.h"

#include <math_constants.h>

namespace {

constexpr int kRowsPerChunk = 1024; // sequence rows one block of the reduction sums

// The feature of row j: ReLU(x_j) · sin(angle_j) in [0, dim), ReLU(x_j) · cos(angle_j) in [dim, 2·dim).
__device__ float feature(const float* row, int m, int dim, float angle) {
    float r = fmaxf(row[m < dim ? m : m - dim], 0.0f);
    return m < dim ? r * sinf(angle) : r * cosf(angle);
}

// kv[h][m][t] += Σ_{j in chunk} k̃_j[m] v_j[t] and ksum[h][m] += Σ_{j in chunk} k̃_j[m].
// grid (heads, ceil(2·dim·dim / blockDim), chunks); one thread per (m, t) entry.
__global__ void reduce_kv(const float* k, const float* v, float* kv, float* ksum, int length, int dim) {
    int h = blockIdx.x;
    int e = blockIdx.y * blockDim.x + threadIdx.x;
    if (e >= 2 * dim * dim) return;
    int m = e / dim, t = e % dim;
    int begin = blockIdx.z * kRowsPerChunk, end = min(length, begin + kRowsPerChunk);
    const float* kh = k + size_t(h) * length * dim;
    const float* vh = v + size_t(h) * length * dim;
    float acc = 0.0f, sum = 0.0f;
    for (int j = begin; j < end; ++j) {
        float f = feature(kh + size_t(j) * dim, m, dim, CUDART_PIO2_F * float(j + 1) / float(length));
        acc += f * vh[size_t(j) * dim + t];
        sum += f;
    }
    atomicAdd(kv + (size_t(h) * 2 * dim + m) * dim + t, acc);
    if (t == 0) atomicAdd(ksum + size_t(h) * 2 * dim + m, sum);
}

// out_i[t] = Σ_m q̃_i[m] kv[m][t] / max(Σ_m q̃_i[m] ksum[m], eps); grid (length, heads) (x, not y:
// gridDim.y stops at 65,535 rows), dim threads.
__global__ void write_rows(const float* q, const float* kv, const float* ksum, float* out, int length, int dim,
                           float eps) {
    extern __shared__ float qx[]; // 2·dim
    int i = blockIdx.x, h = blockIdx.y, t = threadIdx.x;
    const float* row = q + (size_t(h) * length + i) * dim;
    float angle = CUDART_PIO2_F * float(i + 1) / float(length);
    for (int m = t; m < 2 * dim; m += blockDim.x)
        qx[m] = feature(row, m, dim, angle);
    __syncthreads();
    const float* kvh = kv + size_t(h) * 2 * dim * dim;
    const float* ks = ksum + size_t(h) * 2 * dim;
    float num = 0.0f, den = 0.0f;
    for (int m = 0; m < 2 * dim; ++m) {
        num += qx[m] * kvh[size_t(m) * dim + t];
        den += qx[m] * ks[m];
    }
    out[(size_t(h) * length + i) * dim + t] = num / fmaxf(den, eps);
}

} // namespace

size_t iclr_cosformer_work_floats(int heads, int dim) { return size_t(heads) * 2 * dim * (dim + 1); }

cudaError_t iclr_cosformer_forward(const float* q, const float* k, const float* v, float* out, float* work, int heads,
                                   int length, int dim, float eps, cudaStream_t stream) {
    if (heads <= 0 || length <= 0 || dim <= 0 || dim > 256) return cudaErrorInvalidValue;
    float* kv = work;
    float* ksum = work + size_t(heads) * 2 * dim * dim;
    cudaError_t err = cudaMemsetAsync(work, 0, iclr_cosformer_work_floats(heads, dim) * sizeof(float), stream);
    if (err != cudaSuccess) return err;
    int threads = 256;
    dim3 grid(heads, (2 * dim * dim + threads - 1) / threads, (length + kRowsPerChunk - 1) / kRowsPerChunk);
    reduce_kv<<<grid, threads, 0, stream>>>(k, v, kv, ksum, length, dim);
    write_rows<<<dim3(length, heads), dim, 2 * dim * sizeof(float), stream>>>(q, kv, ksum, out, length, dim, eps);
    return cudaGetLastError();
}
