// libtorch's SGD with momentum, its update done in one pass over each weight instead of three.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace iclr {

namespace detail {
// Whether libtorch runs its AVX2 (or AVX-512) kernels here, whose roundings the one-pass update
// (sdk/src/sgd.cpp) has; ATEN_CPU_CAPABILITY=default turns both off.
bool fused_sgd_available();
} // namespace detail

// torch::optim::SGD whose step, for a dense contiguous float32 weight on the CPU with plain momentum
// (no dampening, no Nesterov), updates the momentum buffer and the weight in one pass: libtorch's
// step reads and writes every weight three times (mul_, add_, add_), which is ~10% of a 1,024-wide
// MLP's step on 2 cores (`make bench`). The numbers are libtorch's bit for bit (same roundings, same
// order; tests/plugins/optimizer_test.cpp pins it); every other case, and the first step of each
// weight (which creates the buffer), runs libtorch's own code. The state is libtorch's.
class FusedSgd : public torch::optim::SGD {
  public:
    using torch::optim::SGD::SGD;

    torch::Tensor step(LossClosure closure = nullptr) override;

    // How many weight updates took the one-pass path (tests: that the fast path is the one tested).
    int64_t fused_updates() const { return fused_updates_; }

  private:
    static bool fusable(const torch::Tensor& p, const torch::Tensor& buf);
    // libtorch 1.13's SGD::step for one weight (torch/csrc/api/src/optim/sgd.cpp).
    void reference(torch::Tensor& p, const torch::optim::SGDOptions& o);
    // The momentum buffer and the weight in one pass (AVX2 blocks of 32, libtorch's ops on the tail).
    void fused(torch::Tensor& p, torch::Tensor& buf, const torch::optim::SGDOptions& o);

    int64_t fused_updates_ = 0;
};

} // namespace iclr
