// What the SDK helpers draw on the CPU (augmentation parameters, Hessian probe vectors: the same
// draws on every device) goes to the device of the tensors it meets. No GPU here, so libtorch's
// "meta" device (shapes, no data) stands in for one. libtorch 1.13 can neither move a module there
// (Module::to refuses it) nor index_select on it, so the heads' and batches' placement is checked
// on a GPU only (top-level README, "On a GPU").
#include "plugin_test_util.hpp"

#include "iclr/augment.hpp"
#include "iclr/hessian.hpp"
#include "iclr/training.hpp" // make_generator

using namespace iclr;

namespace {

const torch::Device kMetaDevice(torch::kMeta);

struct LinearBackbone : Backbone {
    LinearBackbone() : fc(register_module("fc", torch::nn::Linear(3, 4))) {}
    torch::Tensor forward(const torch::Tensor& x) override { return fc->forward(x); }
    int64_t feature_dim() const override { return 4; }
    torch::nn::Linear fc;
};

} // namespace

TEST(Devices, ModuleDeviceIsWhereTheWeightsAre) {
    LinearBackbone b;
    EXPECT_EQ(module_device(b), torch::Device(torch::kCPU));
    test::FlatBackbone flat(3); // no parameters, no buffers: the CPU
    EXPECT_EQ(module_device(flat), torch::Device(torch::kCPU));
}

TEST(Devices, AugmentationsDrawOnTheCpuAndApplyOnTheInputsDevice) {
    auto x = torch::zeros({4, 1, 8, 8}, kMetaDevice);
    auto gen = make_generator(0);
    for (const Augment& a : {random_contrast(0.6, 1.4), gaussian_noise(0.1)})
        EXPECT_EQ(a(x, gen).device(), kMetaDevice);
}

TEST(Devices, TheHessianOperatorSaysWhereItsParametersAre) {
    // power_iteration, hessian_extremes and hutchinson_trace move their CPU draws there.
    auto w = torch::randn({3}, torch::TensorOptions(kMetaDevice).requires_grad(true));
    HessianOperator h((w * w * w).sum(), {w});
    EXPECT_EQ(h.device(), kMetaDevice);
    EXPECT_EQ(h.apply(torch::zeros({3}, torch::TensorOptions(kMetaDevice).dtype(torch::kDouble))).device(),
              kMetaDevice);
}
