// Model plugin `cnn`: a small conv net (conv-ReLU-pool blocks, channel widths w, 2w, 4w, ...),
// global-average-pooled features; `width` is the size knob.
#include "iclr/sdk.hpp"

namespace {

class CnnBackbone : public iclr::Backbone {
  public:
    CnnBackbone(int64_t in_channels, int64_t width, int64_t depth) {
        int64_t c = in_channels;
        for (int64_t k = 0; k < depth; ++k) {
            int64_t out = width << std::min<int64_t>(k, 2); // w, 2w, 4w, 4w, ...
            layers_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out, 3).padding(1)));
            layers_->push_back(torch::nn::ReLU());
            if (k < 2) layers_->push_back(torch::nn::MaxPool2d(2)); // 28 -> 14 -> 7
            c = out;
        }
        features_ = c;
        register_module("layers", layers_);
    }
    torch::Tensor forward(const torch::Tensor& x) override { return layers_->forward(x).mean({2, 3}); }
    int64_t feature_dim() const override { return features_; }

  private:
    torch::nn::Sequential layers_;
    int64_t features_ = 0;
};

class Cnn : public iclr::Model {
  public:
    Cnn(const iclr::ParamSet& p, iclr::RunContext&) : width_(p.get_int("width")), depth_(p.get_int("depth")) {}
    std::shared_ptr<iclr::Backbone> build(const std::vector<int64_t>& shape, iclr::RunContext&) override {
        if (shape.size() != 3) throw iclr::PluginError("cnn needs images [C, H, W]");
        return std::make_shared<CnnBackbone>(shape[0], width_, depth_);
    }

  private:
    int64_t width_, depth_;
};

} // namespace

ICLR_PLUGIN(iclr::Model, Cnn, "cnn", "0.1.0", "",
            "small conv net: depth x (conv3x3-ReLU, max-pool on the first two), widths w, 2w, 4w; GAP features",
            ICLR_INT("width", 16, 1, 4096, "channels of the first conv layer (later layers 2x, 4x)"),
            ICLR_INT("depth", 3, 1, 16, "conv layers"))
