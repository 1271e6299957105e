// Model plugin `mlp`: a ReLU multilayer perceptron whose width and depth are the size knobs.
#include "iclr/sdk.hpp"

namespace {

class MlpBackbone : public iclr::Backbone {
  public:
    MlpBackbone(int64_t in, int64_t width, int64_t depth) : width_(width) {
        int64_t prev = in;
        for (int64_t k = 0; k < depth; ++k) {
            layers_->push_back(torch::nn::Linear(prev, width));
            layers_->push_back(torch::nn::ReLU());
            prev = width;
        }
        register_module("layers", layers_);
    }
    torch::Tensor forward(const torch::Tensor& x) override { return layers_->forward(x.flatten(1)); }
    int64_t feature_dim() const override { return width_; }

  private:
    int64_t width_;
    torch::nn::Sequential layers_;
};

class Mlp : public iclr::Model {
  public:
    Mlp(const iclr::ParamSet& p, iclr::RunContext&) : width_(p.get_int("width")), depth_(p.get_int("depth")) {}
    std::shared_ptr<iclr::Backbone> build(const std::vector<int64_t>& shape, iclr::RunContext&) override {
        int64_t in = 1;
        for (int64_t d : shape)
            in *= d;
        if (shape.empty()) throw iclr::PluginError("mlp needs the data set's input shape");
        return std::make_shared<MlpBackbone>(in, width_, depth_);
    }

  private:
    int64_t width_, depth_;
};

} // namespace

ICLR_PLUGIN(iclr::Model, Mlp, "mlp", "0.1.0", "",
            "multilayer perceptron (Linear+ReLU) x depth; features = last hidden layer",
            ICLR_INT("width", 256, 1, 65536, "units per hidden layer"), ICLR_INT("depth", 2, 1, 64, "hidden layers"))
