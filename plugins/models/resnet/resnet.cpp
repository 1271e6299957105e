// Model plugin `resnet`: a pre-activation ResNet for 28x28 inputs (He et al. 2016, "Identity
// mappings"), three stages of widths w, 2w, 4w with `depth` blocks each; GAP features.
#include "iclr/sdk.hpp"

namespace {

// BN-ReLU-conv-BN-ReLU-conv, plus the input (through a 1x1 conv when the shape changes).
struct PreActBlockImpl : torch::nn::Module {
    PreActBlockImpl(int64_t in, int64_t out, int64_t stride)
        : bn1(register_module("bn1", torch::nn::BatchNorm2d(in))),
          conv1(register_module(
              "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)))),
          bn2(register_module("bn2", torch::nn::BatchNorm2d(out))),
          conv2(register_module("conv2",
                                torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)))) {
        if (stride != 1 || in != out)
            shortcut = register_module(
                "shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto a = torch::relu(bn1(x));
        auto skip = shortcut ? shortcut(a) : x;
        auto h = conv1(a);
        h = conv2(torch::relu(bn2(h)));
        return h + skip;
    }
    torch::nn::BatchNorm2d bn1;
    torch::nn::Conv2d conv1;
    torch::nn::BatchNorm2d bn2;
    torch::nn::Conv2d conv2;
    torch::nn::Conv2d shortcut{nullptr};
};
TORCH_MODULE(PreActBlock);

class ResnetBackbone : public iclr::Backbone {
  public:
    ResnetBackbone(int64_t in_channels, int64_t width, int64_t depth)
        : stem_(register_module(
              "stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, width, 3).padding(1).bias(false)))) {
        int64_t c = width;
        for (int64_t stage = 0; stage < 3; ++stage) {
            int64_t out = width << stage;
            for (int64_t b = 0; b < depth; ++b) {
                blocks_->push_back(PreActBlock(c, out, (stage > 0 && b == 0) ? 2 : 1)); // 28 -> 14 -> 7
                c = out;
            }
        }
        register_module("blocks", blocks_);
        bn_ = register_module("bn", torch::nn::BatchNorm2d(c));
        features_ = c;
    }
    torch::Tensor forward(const torch::Tensor& x) override {
        return torch::relu(bn_(blocks_->forward(stem_(x)))).mean({2, 3});
    }
    int64_t feature_dim() const override { return features_; }

  private:
    torch::nn::Conv2d stem_;
    torch::nn::Sequential blocks_;
    torch::nn::BatchNorm2d bn_{nullptr};
    int64_t features_ = 0;
};

class Resnet : public iclr::Model {
  public:
    Resnet(const iclr::ParamSet& p, iclr::RunContext&) : width_(p.get_int("width")), depth_(p.get_int("depth")) {}
    std::shared_ptr<iclr::Backbone> build(const std::vector<int64_t>& shape, iclr::RunContext&) override {
        if (shape.size() != 3) throw iclr::PluginError("resnet needs images [C, H, W]");
        return std::make_shared<ResnetBackbone>(shape[0], width_, depth_);
    }

  private:
    int64_t width_, depth_;
};

} // namespace

ICLR_PLUGIN(iclr::Model, Resnet, "resnet", "0.1.0",
            "He, Zhang, Ren, Sun. Identity Mappings in Deep Residual Networks. ECCV 2016.",
            "pre-activation ResNet: 3 stages (w, 2w, 4w channels; stride 2 between), depth blocks each; GAP features",
            ICLR_INT("width", 16, 1, 1024, "channels of the first stage"),
            ICLR_INT("depth", 1, 1, 32, "residual blocks per stage"))
