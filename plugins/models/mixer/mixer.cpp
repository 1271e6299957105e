// Model plugin `mixer`: a small MLP-Mixer (Tolstikhin et al. 2021): patch embedding, blocks of a
// token-mixing and a channel-mixing MLP, global average pooling. The ViT + SAM paper's other model.
#include "iclr/sdk.hpp"

namespace {

// Two linear layers with a GELU between them (Mixer's MlpBlock).
struct MlpImpl : torch::nn::Module {
    MlpImpl(int64_t dim, int64_t hidden)
        : fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
          fc2(register_module("fc2", torch::nn::Linear(hidden, dim))) {}
    torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::gelu(fc1(x))); }
    torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Mlp);

// x ← x + MLP_tokens(LN(x)ᵀ)ᵀ mixes across patches (one MLP shared by all channels);
// x ← x + MLP_channels(LN(x)) mixes across channels (one MLP shared by all patches).
struct MixerBlockImpl : torch::nn::Module {
    MixerBlockImpl(int64_t tokens, int64_t dim, int64_t token_hidden, int64_t channel_hidden)
        : ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          token_mlp(register_module("token_mlp", Mlp(tokens, token_hidden))),
          ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          channel_mlp(register_module("channel_mlp", Mlp(dim, channel_hidden))) {}
    torch::Tensor forward(torch::Tensor x) { // N, L, D
        x = x + token_mlp(ln1(x).transpose(1, 2)).transpose(1, 2);
        return x + channel_mlp(ln2(x));
    }
    torch::nn::LayerNorm ln1;
    Mlp token_mlp;
    torch::nn::LayerNorm ln2;
    Mlp channel_mlp;
};
TORCH_MODULE(MixerBlock);

class MixerBackbone : public iclr::Backbone {
  public:
    MixerBackbone(const std::vector<int64_t>& shape, int64_t patch, int64_t dim, int64_t depth, int64_t token_hidden,
                  int64_t channel_hidden)
        : dim_(dim) {
        int64_t tokens = (shape[1] / patch) * (shape[2] / patch);
        embed_ =
            register_module("embed", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], dim, patch).stride(patch)));
        for (int64_t k = 0; k < depth; ++k)
            blocks_->push_back(MixerBlock(tokens, dim, token_hidden, channel_hidden));
        register_module("blocks", blocks_);
        norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    }
    torch::Tensor forward(const torch::Tensor& x) override {
        auto t = norm_(blocks_->forward(embed_(x).flatten(2).transpose(1, 2))); // N, L, D
        last_tokens_ = t;
        return t.mean(1);
    }
    int64_t feature_dim() const override { return dim_; }
    std::map<std::string, torch::Tensor> internals() const override {
        return {{"tokens", last_tokens_}, {"patch_tokens", last_tokens_}};
    }

  private:
    int64_t dim_;
    torch::nn::Conv2d embed_{nullptr};
    torch::nn::Sequential blocks_;
    torch::nn::LayerNorm norm_{nullptr};
    torch::Tensor last_tokens_;
};

class Mixer : public iclr::Model {
  public:
    struct Params {
        iclr::Int patch{"patch", 7, 1, 28, "patch size (must divide the image size)"};
        iclr::Int width{"width", 64, 4, 2048, "channels per patch (Mixer's hidden size C)"};
        iclr::Int depth{"depth", 4, 1, 48, "Mixer blocks"};
        iclr::Int token_hidden{"token_hidden", 0, 0, 65536,
                               "token-mixing MLP width D_S (0 = width / 2, Mixer-S/B's ratio)"};
        iclr::Int mlp_ratio{"mlp_ratio", 4, 1, 16, "channel-mixing MLP width D_C / width (Mixer-S/B: 4)"};
    };

    Mixer(const Params& p, iclr::RunContext&)
        : patch_(p.patch), width_(p.width), depth_(p.depth),
          token_hidden_(p.token_hidden > 0 ? int64_t(p.token_hidden) : std::max<int64_t>(1, p.width / 2)),
          mlp_ratio_(p.mlp_ratio) {}
    std::shared_ptr<iclr::Backbone> build(const std::vector<int64_t>& shape, iclr::RunContext&) override {
        if (shape.size() != 3) throw iclr::PluginError("mixer needs images [C, H, W]");
        if (shape[1] % patch_ || shape[2] % patch_)
            throw iclr::PluginError("patch " + std::to_string(patch_) + " does not divide the image size");
        return std::make_shared<MixerBackbone>(shape, patch_, width_, depth_, token_hidden_, width_ * mlp_ratio_);
    }

  private:
    int64_t patch_, width_, depth_, token_hidden_, mlp_ratio_;
};

} // namespace

ICLR_PLUGIN(iclr::Model, Mixer, "mixer", "0.1.0",
            "Tolstikhin et al. MLP-Mixer: An all-MLP Architecture for Vision. NeurIPS 2021.",
            "small MLP-Mixer: patch embedding, token- and channel-mixing MLP blocks, global average pooling")
