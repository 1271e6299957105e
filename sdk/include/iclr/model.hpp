// Model plugins: build a feature backbone with a size knob; heads are the method's business.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "iclr/context.hpp"

namespace iclr {

// A backbone maps [N, ...input_shape] to features [N, feature_dim()].
// Metrics that need a model's internals (CLS vs GAP tokens, attention maps for ViT papers)
// read internals() after a forward pass; backbones that have none return an empty map.
class ICLR_SDK_API Backbone : public torch::nn::Module {
  public:
    virtual torch::Tensor forward(const torch::Tensor& x) = 0;
    virtual int64_t feature_dim() const = 0;
    virtual std::map<std::string, torch::Tensor> internals() const { return {}; }

    int64_t param_count() const {
        int64_t n = 0;
        for (const auto& p : parameters())
            n += p.numel();
        return n;
    }
};

// The device a module's weights are on: the first parameter's, else the first buffer's, else the
// CPU. The worker puts each new backbone on the trial's device (RunContext::device), so a method
// makes its heads and its own tensors where module_device(backbone) says. Appended in 2.8.
inline torch::Device module_device(const torch::nn::Module& m) {
    for (const auto& p : m.parameters())
        return p.device();
    for (const auto& b : m.buffers())
        return b.device();
    return torch::kCPU;
}

class ICLR_SDK_API Model {
  public:
    virtual ~Model() = default;
    // Called once per backbone the method asks for (a method may want several: teacher/student,
    // a frozen copy for feature distortion). Initialisation draws from torch's seeded generator.
    virtual std::shared_ptr<Backbone> build(const std::vector<int64_t>& input_shape, RunContext& ctx) = 0;
};

} // namespace iclr
