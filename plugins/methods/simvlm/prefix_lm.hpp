// SimVLM's model, shrunk: one transformer over [image patches, caption tokens] whose attention mask
// makes it a prefix language model (bidirectional over the image and a text prefix, causal after)
// or a plain causal language model; the template captions of digit canvases it learns to write.
#pragma once

#include <cmath>
#include <limits>
#include <utility>

#include "iclr/sdk.hpp"

namespace simvlm {

// Caption vocabulary: the ten digits, the nine cells of a 3 x 3 grid, begin and end of caption.
constexpr int64_t kCells = 9, kBos = 10 + kCells, kEos = kBos + 1, kVocab = kEos + 1;

// Each canvas's caption: its digits in reading order, each followed by the word for its cell
// ("seven top-left four centre two bottom-right"): [N, 2K] tokens.
inline torch::Tensor captions(const torch::Tensor& digits, const torch::Tensor& cells) {
    return torch::stack({digits, cells + 10}, 2).flatten(1);
}

// Which position may attend to which, [N, L, L] (true = may), over `image` patch tokens followed by
// `text` caption inputs ([BOS, t0, ...]). The prefix of example n is the image and its first
// prefix[n] + 1 text inputs (BOS and prefix[n] caption tokens): with prefix_lm every prefix position
// sees the whole prefix (and nothing after it), every later position sees all before it and itself.
// Without prefix_lm every position sees only what comes before it and itself (image patches too, in
// raster order: a decoder-only language model over the whole sequence).
inline torch::Tensor attention_mask(int64_t image, int64_t text, const torch::Tensor& prefix, bool prefix_lm) {
    int64_t l = image + text, n = prefix.size(0);
    auto causal = torch::ones({l, l}, prefix.options().dtype(torch::kBool)).tril().expand({n, l, l});
    if (!prefix_lm) return causal.clone();
    auto j = torch::arange(l, prefix.options().dtype(torch::kLong)).view({1, 1, l});
    auto in_prefix = j < (image + 1 + prefix).view({n, 1, 1}); // key j belongs to the prefix
    return causal.logical_or(
        in_prefix.expand({n, l, l}).logical_and(j.transpose(1, 2) < (image + 1 + prefix).view({n, 1, 1})));
}

// Pre-norm transformer block with a boolean attention mask.
struct BlockImpl : torch::nn::Module {
    BlockImpl(int64_t dim, int64_t heads)
        : heads(heads), ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          qkv(register_module("qkv", torch::nn::Linear(dim, 3 * dim))),
          proj(register_module("proj", torch::nn::Linear(dim, dim))),
          ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          fc1(register_module("fc1", torch::nn::Linear(dim, 2 * dim))),
          fc2(register_module("fc2", torch::nn::Linear(2 * dim, dim))) {}
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask) {
        auto n = x.size(0), l = x.size(1), d = x.size(2), dh = d / heads;
        auto t = qkv(ln1(x)).view({n, l, 3, heads, dh}).permute({2, 0, 3, 1, 4});
        auto s = torch::matmul(t[0], t[1].transpose(-2, -1)) / std::sqrt(double(dh));
        s = s.masked_fill(mask.unsqueeze(1).logical_not(), -std::numeric_limits<float>::infinity());
        x = x + proj(torch::matmul(torch::softmax(s, -1), t[2]).transpose(1, 2).reshape({n, l, d}));
        return x + fc2(torch::gelu(fc1(ln2(x))));
    }
    int64_t heads;
    torch::nn::LayerNorm ln1;
    torch::nn::Linear qkv, proj;
    torch::nn::LayerNorm ln2;
    torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Block);

// Patch embedding + learned positions for the image, token embedding + learned positions for the
// caption, the blocks, a final LayerNorm and a linear head onto the vocabulary. A Backbone so that
// the host's metrics can hold it: forward(images) is the image alone (bidirectional), mean-pooled.
class Net : public iclr::Backbone {
  public:
    Net(const std::vector<int64_t>& shape, int64_t patch, int64_t dim, int64_t depth, int64_t heads, int64_t text)
        : dim_(dim), image_((shape[1] / patch) * (shape[2] / patch)) {
        embed_ =
            register_module("embed", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], dim, patch).stride(patch)));
        image_pos_ = register_parameter("image_pos", torch::randn({1, image_, dim}) * 0.02);
        tokens_ = register_module("tokens", torch::nn::Embedding(kVocab, dim));
        text_pos_ = register_parameter("text_pos", torch::randn({1, text, dim}) * 0.02);
        for (int64_t k = 0; k < depth; ++k)
            blocks_.push_back(register_module("block" + std::to_string(k), Block(dim, heads)));
        norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
        head_ = register_module("head", torch::nn::Linear(dim, kVocab));
    }
    // Next-token logits [N, T, vocab] at the text positions of [image, text_in] under `mask`.
    torch::Tensor logits(const torch::Tensor& images, const torch::Tensor& text_in, const torch::Tensor& mask) {
        auto x = torch::cat({patches(images), tokens_(text_in) + text_pos_.slice(1, 0, text_in.size(1))}, 1);
        for (auto& b : blocks_)
            x = b->forward(x, mask);
        return head_(norm_(x.slice(1, image_)));
    }
    torch::Tensor forward(const torch::Tensor& images) override {
        auto x = patches(images);
        auto all = torch::ones({x.size(0), image_, image_}, x.options().dtype(torch::kBool));
        for (auto& b : blocks_)
            x = b->forward(x, all);
        return norm_(x).mean(1);
    }
    int64_t feature_dim() const override { return dim_; }
    int64_t image_tokens() const { return image_; }

  private:
    torch::Tensor patches(const torch::Tensor& images) {
        return embed_(images).flatten(2).transpose(1, 2) + image_pos_;
    }
    int64_t dim_, image_;
    torch::nn::Conv2d embed_{nullptr};
    torch::Tensor image_pos_, text_pos_;
    torch::nn::Embedding tokens_{nullptr};
    std::vector<Block> blocks_;
    torch::nn::LayerNorm norm_{nullptr};
    torch::nn::Linear head_{nullptr};
};

// Teacher forcing: the text inputs [BOS, caption] and the targets [caption, EOS], [N, T + 1] each.
inline std::pair<torch::Tensor, torch::Tensor> teacher_forced(const torch::Tensor& caps) {
    auto n = caps.size(0);
    auto o = caps.options().dtype(torch::kLong);
    return {torch::cat({torch::full({n, 1}, kBos, o), caps}, 1), torch::cat({caps, torch::full({n, 1}, kEos, o)}, 1)};
}

// Next-token logits [N, T + 1, vocab] of the teacher-forced caption with a text prefix per example.
inline torch::Tensor caption_logits(Net& net, const torch::Tensor& images, const torch::Tensor& text_in,
                                    const torch::Tensor& prefix, bool prefix_lm) {
    return net.logits(images, text_in, attention_mask(net.image_tokens(), text_in.size(1), prefix, prefix_lm));
}

// Each target's negative log-likelihood [N, T + 1] under the teacher-forced caption.
inline torch::Tensor target_nll(Net& net, const torch::Tensor& images, const torch::Tensor& caps,
                                const torch::Tensor& prefix, bool prefix_lm) {
    auto [text_in, target] = teacher_forced(caps);
    auto logits = caption_logits(net, images, text_in, prefix, prefix_lm);
    return torch::nn::functional::cross_entropy(
               logits.flatten(0, 1), target.flatten(),
               torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
        .view(target.sizes());
}

// Cross-entropy of the generated part of each caption: a target counts when its position is at or
// after the example's text prefix (so nothing it could see gives it away), every target with prefix 0.
inline torch::Tensor generated_loss(Net& net, const torch::Tensor& images, const torch::Tensor& caps,
                                    const torch::Tensor& prefix, bool prefix_lm) {
    auto nll = target_nll(net, images, caps, prefix, prefix_lm);
    auto counted =
        (torch::arange(nll.size(1), prefix.options().dtype(torch::kLong)).unsqueeze(0) >= prefix.unsqueeze(1))
            .to(torch::kFloat);
    return (nll * counted).sum() / counted.sum();
}

// Summed log-likelihood of each caption [N] (its tokens and the end token) given the image, with
// the image (and BOS) as the only prefix: how a captioner scores candidate captions.
inline torch::Tensor caption_log_likelihood(Net& net, const torch::Tensor& images, const torch::Tensor& caps,
                                            bool prefix_lm) {
    return -target_nll(net, images, caps, torch::zeros({caps.size(0)}, caps.options().dtype(torch::kLong)), prefix_lm)
                .sum(1);
}

} // namespace simvlm
