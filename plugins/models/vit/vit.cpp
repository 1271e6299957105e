// Model plugin `vit`: a small Vision Transformer (Dosovitskiy et al. 2021): patch embedding,
// learned positions, pre-norm blocks; features from the CLS token or the mean of patch tokens (GAP);
// optionally Sparse DETR's encoder, which refines only the patch tokens a learned scorer keeps.
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
    // Sparse DETR's encoder attention: queries from the kept tokens xq [N, k, D] only, keys and values
    // from every token x [N, L, D] (the same weights: qkv's first third makes queries, the rest keys
    // and values). Softmax only: the sparse path is refused with cosFormer.
    torch::Tensor forward_queries(const torch::Tensor& xq, const torch::Tensor& x) {
        auto n = x.size(0), l = x.size(1), d = x.size(2), k = xq.size(1), dh = d / heads;
        auto w = qkv->weight, b = qkv->bias;
        auto q = torch::nn::functional::linear(xq, w.slice(0, 0, d), b.slice(0, 0, d));
        auto kv = torch::nn::functional::linear(x, w.slice(0, d), b.slice(0, d));
        q = q.view({n, k, heads, dh}).transpose(1, 2);               // N, h, k, dh
        kv = kv.view({n, l, 2, heads, dh}).permute({2, 0, 3, 1, 4}); // 2, N, h, L, dh
        attn = torch::softmax(torch::matmul(q, kv[0].transpose(-2, -1)) / std::sqrt(double(dh)), -1);
        return proj(torch::matmul(attn, kv[1]).transpose(1, 2).reshape({n, k, d}));
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
    // The block on the tokens at `kept` ([N, k] positions) only: they attend to every token, pass
    // through the MLP, and are written back; the other tokens leave unchanged (Sparse DETR).
    torch::Tensor forward_kept(const torch::Tensor& x, const torch::Tensor& kept) {
        auto at = kept.unsqueeze(-1).expand({-1, -1, x.size(2)});
        auto h = ln1(x);
        auto xs = x.gather(1, at) + attn->forward_queries(h.gather(1, at), h);
        xs = xs + fc2(torch::gelu(fc1(ln2(xs))));
        return x.scatter(1, at, xs);
    }
    torch::nn::LayerNorm ln1;
    Attention attn;
    torch::nn::LayerNorm ln2;
    torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Block);

// Everything the plugin's parameters fix about one backbone.
struct VitShape {
    int64_t patch, dim, depth, heads, mlp_ratio;
    bool cls, cosformer;
    double keep; // share of patch tokens the encoder refines (1 = all: the plain ViT)
};

class VitBackbone : public iclr::Backbone {
  public:
    VitBackbone(const std::vector<int64_t>& shape, const VitShape& v) : v_(v), dim_(v.dim), cls_(v.cls) {
        patches_ = (shape[1] / v.patch) * (shape[2] / v.patch);
        patch_inputs_ = shape[0] * v.patch * v.patch;
        embed_ = register_module("embed",
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], v.dim, v.patch).stride(v.patch)));
        pos_ = register_parameter("pos", torch::randn({1, patches_ + (v.cls ? 1 : 0), v.dim}) * 0.02);
        if (v.cls) cls_token_ = register_parameter("cls", torch::zeros({1, 1, v.dim}));
        for (int64_t k = 0; k < v.depth; ++k)
            blocks_->push_back(Block(v.dim, v.heads, v.dim * v.mlp_ratio, v.cosformer));
        register_module("blocks", blocks_);
        norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({v.dim})));
        if (sparse())
            scorer_ = register_module("scorer", torch::nn::Sequential(torch::nn::Linear(v.dim, v.dim),
                                                                      torch::nn::GELU(), torch::nn::Linear(v.dim, 1)));
    }
    torch::Tensor forward(const torch::Tensor& x) override {
        auto t = embed_(x).flatten(2).transpose(1, 2); // N, L, D
        if (cls_) t = torch::cat({cls_token_.expand({t.size(0), 1, dim_}), t}, 1);
        t = t + pos_;
        auto pre = sparse() ? forward_sparse(t) : blocks_->forward(t);
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
                                               {"prenorm_patch_tokens", last_prenorm_},
                                               {"encoder_flops", torch::tensor(encoder_flops(), torch::kFloat64)}};
        if (blocks_->size() > 0) {
            const auto& last = *blocks_->ptr<BlockImpl>(blocks_->size() - 1)->attn;
            if (!last.cosformer) m["attention"] = last.attn; // cosFormer never forms the map
        }
        if (sparse()) {
            m["token_scores"] = last_scores_;
            m["kept_tokens"] = last_kept_;
        }
        return m;
    }

  private:
    bool sparse() const { return v_.keep < 1.0; }
    // How many patch tokens the encoder refines.
    int64_t kept_count() const { return std::max<int64_t>(1, int64_t(std::ceil(v_.keep * double(patches_)))); }

    // Sparse DETR (Roh et al. 2022): the scorer rates each embedded patch token, the top
    // ceil(keep * patches) are refined by every block (attending to all tokens), the rest pass
    // through as embedded. The choice is a top-k, so no gradient reaches the scorer through it: a
    // method trains it from token_scores (sparse_detr: against the decoder's attention).
    torch::Tensor forward_sparse(const torch::Tensor& t) {
        auto patches = cls_ ? t.slice(1, 1) : t;
        last_scores_ = scorer_->forward(patches).squeeze(-1); // N, patches
        last_kept_ = std::get<1>(last_scores_.detach().topk(kept_count(), 1));
        auto kept =
            cls_ ? torch::cat({torch::zeros({t.size(0), 1}, last_kept_.options()), last_kept_ + 1}, 1) : last_kept_;
        auto x = t;
        for (size_t b = 0; b < blocks_->size(); ++b)
            x = blocks_->ptr<BlockImpl>(b)->forward_kept(x, kept);
        return x;
    }
    // Multiply-adds x 2 for one example through the encoder (embedding, scorer, blocks; LayerNorms,
    // softmax and GELU left out): what a kept share saves. Keys and values are still made for every
    // token; queries, attention rows, projections and MLPs only for the kept ones.
    double encoder_flops() const {
        double d = double(dim_), l = double(patches_ + (cls_ ? 1 : 0)), h = d * double(v_.mlp_ratio);
        double k = sparse() ? double(kept_count() + (cls_ ? 1 : 0)) : l;
        double macs = double(patches_) * double(patch_inputs_) * d;
        if (sparse()) macs += double(patches_) * (d * d + d);
        double block = v_.cosformer
                           ? 3 * l * d * d + 4 * l * d * d / double(v_.heads) // qkv; cos and sin halves of K'V, Q'(K'V)
                           : 2 * l * d * d + k * d * d + 2 * k * l * d;       // kv, q, QK^T and AV
        block += k * d * d + 2 * k * d * h;                                   // proj, MLP
        return 2 * (macs + double(v_.depth) * block);
    }

    VitShape v_;
    int64_t dim_, patches_ = 0, patch_inputs_ = 0;
    bool cls_;
    torch::nn::Conv2d embed_{nullptr};
    torch::Tensor pos_, cls_token_;
    torch::nn::Sequential blocks_, scorer_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
    torch::Tensor last_tokens_, last_prenorm_, last_scores_, last_kept_;
};

class Vit : public iclr::Model {
  public:
    Vit(const iclr::ParamSet& p, iclr::RunContext&)
        : v_{p.get_int("patch"),
             p.get_int("width"),
             p.get_int("depth"),
             p.get_int("heads"),
             p.get_int("mlp_ratio"),
             p.get_string("pool") == "cls",
             p.get_string("attention") == "cosformer",
             p.get_float("keep")} {
        if (v_.dim % v_.heads != 0)
            throw iclr::PluginError("width " + std::to_string(v_.dim) + " is not divisible by heads " +
                                    std::to_string(v_.heads));
        if (v_.keep < 1.0 && v_.cosformer)
            throw iclr::PluginError("keep < 1 (Sparse DETR's encoder) needs attention = \"softmax\"");
    }
    std::shared_ptr<iclr::Backbone> build(const std::vector<int64_t>& shape, iclr::RunContext&) override {
        if (shape.size() != 3) throw iclr::PluginError("vit needs images [C, H, W]");
        if (shape[1] % v_.patch || shape[2] % v_.patch)
            throw iclr::PluginError("patch " + std::to_string(v_.patch) + " does not divide the image size");
        return std::make_shared<VitBackbone>(shape, v_);
    }

  private:
    VitShape v_;
};

} // namespace

ICLR_PLUGIN(iclr::Model, Vit, "vit", "0.4.0",
            "Dosovitskiy et al. An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale. ICLR 2021.",
            "small ViT: patch embedding, learned positions, pre-norm blocks; CLS-token or GAP features",
            ICLR_INT("patch", 7, 1, 28, "patch size (must divide the image size)"),
            ICLR_INT("width", 64, 4, 2048, "embedding dimension"), ICLR_INT("depth", 2, 1, 48, "transformer blocks"),
            ICLR_INT("heads", 4, 1, 64, "attention heads (must divide width)"),
            ICLR_INT("mlp_ratio", 2, 1, 8, "MLP hidden size / width"),
            ICLR_STRING("pool", "cls", "cls|gap",
                        "features: the CLS token, or the mean of the patch tokens (GAP, no CLS token)"),
            ICLR_STRING("attention", "softmax", "softmax|cosformer",
                        "softmax(QK^T / sqrt(d)) V, or cosFormer's linear attention (ReLU features, cos re-weighting)"),
            ICLR_FLOAT("keep", 1.0, 0.001, 1.0,
                       "share of patch tokens the encoder refines, chosen by a learned scorer (Sparse DETR's rho; "
                       "1 = all, the plain ViT with no scorer)"))
