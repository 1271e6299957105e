// Model plugin `vit`: a small Vision Transformer (Dosovitskiy et al. 2021): patch embedding,
// learned positions, pre-norm blocks; features from the CLS token or the mean of patch tokens (GAP).
#include <cmath>

#include "iclr/cosformer.hpp"
#include "iclr/sdk.hpp"

namespace {

// softmax(Q K^T / sqrt(d_head)) V over `heads` heads, keeping the last attention map for metrics;
// or cosFormer's linear attention (iclr/cosformer.hpp), which never forms the map.
struct AttentionImpl : torch::nn::Module {
    AttentionImpl(int64_t dim, int64_t heads, bool cosformer)
        : heads(heads), cosformer(cosformer), qkv(register_module("qkv", torch::nn::Linear(dim, 3 * dim))),
          proj(register_module("proj", torch::nn::Linear(dim, dim))) {}
    torch::Tensor forward(const torch::Tensor& x) {
        auto n = x.size(0), l = x.size(1), d = x.size(2);
        auto t = qkv(x).view({n, l, 3, heads, d / heads}).permute({2, 0, 3, 1, 4}); // 3, N, h, L, dh
        auto q = t[0], k = t[1], v = t[2];
        torch::Tensor out;
        if (cosformer) {
            out = iclr::cosformer_attention(q, k, v);
        } else {
            attn = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(d / heads)), -1);
            out = torch::matmul(attn, v);
        }
        return proj(out.transpose(1, 2).reshape({n, l, d}));
    }
    int64_t heads;
    bool cosformer;
    torch::nn::Linear qkv, proj;
    torch::Tensor attn;
};
TORCH_MODULE(Attention);

struct BlockImpl : torch::nn::Module {
    BlockImpl(int64_t dim, int64_t heads, int64_t hidden, bool cosformer)
        : ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          attn(register_module("attn", Attention(dim, heads, cosformer))),
          ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
          fc2(register_module("fc2", torch::nn::Linear(hidden, dim))) {}
    torch::Tensor forward(torch::Tensor x) {
        x = x + attn(ln1(x));
        return x + fc2(torch::gelu(fc1(ln2(x))));
    }
    torch::nn::LayerNorm ln1;
    Attention attn;
    torch::nn::LayerNorm ln2;
    torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Block);

class VitBackbone : public iclr::Backbone {
  public:
    VitBackbone(const std::vector<int64_t>& shape, int64_t patch, int64_t dim, int64_t depth, int64_t heads,
                int64_t mlp_ratio, bool cls, bool cosformer)
        : dim_(dim), cls_(cls) {
        int64_t tokens = (shape[1] / patch) * (shape[2] / patch);
        embed_ =
            register_module("embed", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], dim, patch).stride(patch)));
        pos_ = register_parameter("pos", torch::randn({1, tokens + (cls ? 1 : 0), dim}) * 0.02);
        if (cls) cls_token_ = register_parameter("cls", torch::zeros({1, 1, dim}));
        for (int64_t k = 0; k < depth; ++k)
            blocks_->push_back(Block(dim, heads, dim * mlp_ratio, cosformer));
        register_module("blocks", blocks_);
        norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    }
    torch::Tensor forward(const torch::Tensor& x) override {
        auto t = embed_(x).flatten(2).transpose(1, 2); // N, L, D
        if (cls_) t = torch::cat({cls_token_.expand({t.size(0), 1, dim_}), t}, 1);
        auto pre = blocks_->forward(t + pos_);
        last_prenorm_ = cls_ ? pre.slice(1, 1) : pre;
        t = norm_(pre);
        last_tokens_ = t;
        return cls_ ? t.select(1, 0) : t.mean(1);
    }
    int64_t feature_dim() const override { return dim_; }
    std::map<std::string, torch::Tensor> internals() const override {
        // patch_tokens: one per patch, CLS left out (EsViT matches regions between views on these).
        // prenorm_patch_tokens: the last block's patch tokens before the final LayerNorm (As-ViT's
        // proxies read their mean: the normalised features sum to a constant at initialisation).
        std::map<std::string, torch::Tensor> m{{"tokens", last_tokens_},
                                               {"patch_tokens", cls_ ? last_tokens_.slice(1, 1) : last_tokens_},
                                               {"prenorm_patch_tokens", last_prenorm_}};
        if (blocks_->size() > 0) {
            const auto& last = *blocks_->ptr<BlockImpl>(blocks_->size() - 1)->attn;
            if (!last.cosformer) m["attention"] = last.attn; // cosFormer never forms the map
        }
        return m;
    }

  private:
    int64_t dim_;
    bool cls_;
    torch::nn::Conv2d embed_{nullptr};
    torch::Tensor pos_, cls_token_;
    torch::nn::Sequential blocks_;
    torch::nn::LayerNorm norm_{nullptr};
    torch::Tensor last_tokens_, last_prenorm_;
};

class Vit : public iclr::Model {
  public:
    Vit(const iclr::ParamSet& p, iclr::RunContext&)
        : patch_(p.get_int("patch")), width_(p.get_int("width")), depth_(p.get_int("depth")),
          heads_(p.get_int("heads")), mlp_ratio_(p.get_int("mlp_ratio")), cls_(p.get_string("pool") == "cls"),
          cosformer_(p.get_string("attention") == "cosformer") {
        if (width_ % heads_ != 0)
            throw iclr::PluginError("width " + std::to_string(width_) + " is not divisible by heads " +
                                    std::to_string(heads_));
    }
    std::shared_ptr<iclr::Backbone> build(const std::vector<int64_t>& shape, iclr::RunContext&) override {
        if (shape.size() != 3) throw iclr::PluginError("vit needs images [C, H, W]");
        if (shape[1] % patch_ || shape[2] % patch_)
            throw iclr::PluginError("patch " + std::to_string(patch_) + " does not divide the image size");
        return std::make_shared<VitBackbone>(shape, patch_, width_, depth_, heads_, mlp_ratio_, cls_, cosformer_);
    }

  private:
    int64_t patch_, width_, depth_, heads_, mlp_ratio_;
    bool cls_, cosformer_;
};

} // namespace

ICLR_PLUGIN(iclr::Model, Vit, "vit", "0.3.0",
            "Dosovitskiy et al. An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale. ICLR 2021.",
            "small ViT: patch embedding, learned positions, pre-norm blocks; CLS-token or GAP features",
            ICLR_INT("patch", 7, 1, 28, "patch size (must divide the image size)"),
            ICLR_INT("width", 64, 4, 2048, "embedding dimension"), ICLR_INT("depth", 2, 1, 48, "transformer blocks"),
            ICLR_INT("heads", 4, 1, 64, "attention heads (must divide width)"),
            ICLR_INT("mlp_ratio", 2, 1, 8, "MLP hidden size / width"),
            ICLR_STRING("pool", "cls", "cls|gap",
                        "features: the CLS token, or the mean of the patch tokens (GAP, no CLS token)"),
            ICLR_STRING("attention", "softmax", "softmax|cosformer",
                        "softmax(QK^T / sqrt(d)) V, or cosFormer's linear attention (ReLU features, cos re-weighting)"))
