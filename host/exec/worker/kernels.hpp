// Which CPU kernels compute a worker's numbers: its BLAS library and the kernel set that library
// picked for this CPU, and ATen's vector instruction set. Recorded with every run (runs.kernels):
// two machines, or one with OPENBLAS_CORETYPE / ATEN_CPU_CAPABILITY set, can run the same code,
// config and seed through different kernels, whose results differ in the last bits, and a chaotic
// trial (self-supervised pretraining of a small network) turns those bits into different metrics.
#pragma once

#include <string>

namespace iclr::worker {

// "OpenBLAS 0.3.21 Haswell, ATen AVX2": read from the libraries loaded in this process, not from
// the CPU's flags, since environment variables and the libraries' own checks decide the choice.
// A BLAS that is not OpenBLAS is named by the file that provides sgemm_.
std::string compute_kernels();

} // namespace iclr::worker
