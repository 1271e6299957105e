// Sparse DETR's detection half, shrunk to digit strings: a transformer decoder whose learned
// queries (one per digit slot) read the encoder's tokens, and the learner that reads its answers.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>

#include "iclr/sdk.hpp"

namespace detr {

// Multi-head attention of queries [N, Q, D] over a memory [N, L, D]; keeps the weights
// [N, heads, Q, L] of its last call (the decoder cross-attention map DAM sums).
struct AttentionImpl : torch::nn::Module {
    AttentionImpl(int64_t dim, int64_t heads)
        : heads(heads), q(register_module("q", torch::nn::Linear(dim, dim))),
          kv(register_module("kv", torch::nn::Linear(dim, 2 * dim))),
          out(register_module("out", torch::nn::Linear(dim, dim))) {}
    torch::Tensor forward(const torch::Tensor& queries, const torch::Tensor& memory) {
        auto n = queries.size(0), m = queries.size(1), l = memory.size(1), d = queries.size(2), dh = d / heads;
        auto qh = q(queries).view({n, m, heads, dh}).transpose(1, 2);              // N, h, Q, dh
        auto kvh = kv(memory).view({n, l, 2, heads, dh}).permute({2, 0, 3, 1, 4}); // 2, N, h, L, dh
        weights = torch::softmax(torch::matmul(qh, kvh[0].transpose(-2, -1)) / std::sqrt(double(dh)), -1);
        return out(torch::matmul(weights, kvh[1]).transpose(1, 2).reshape({n, m, d}));
    }
    int64_t heads;
    torch::nn::Linear q, kv, out;
    torch::Tensor weights;
};
TORCH_MODULE(Attention);

// DETR's decoder layer, pre-norm: self-attention among the queries, cross-attention to the
// encoder's tokens, an MLP.
struct LayerImpl : torch::nn::Module {
    LayerImpl(int64_t dim, int64_t heads)
        : ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          self(register_module("self", Attention(dim, heads))),
          ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          cross(register_module("cross", Attention(dim, heads))),
          ln3(register_module("ln3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          fc1(register_module("fc1", torch::nn::Linear(dim, 2 * dim))),
          fc2(register_module("fc2", torch::nn::Linear(2 * dim, dim))) {}
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& memory) {
        auto h = ln1(x);
        x = x + self(h, h);
        x = x + cross(ln2(x), memory);
        return x + fc2(torch::gelu(fc1(ln3(x))));
    }
    torch::nn::LayerNorm ln1;
    Attention self;
    torch::nn::LayerNorm ln2;
    Attention cross;
    torch::nn::LayerNorm ln3;
    torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Layer);

// What one forward pass gives: per query, digit logits [N, Q, 10] and cell logits [N, Q, cells]
// (DETR's class and box, the box here a cell of the grid), and the decoder cross-attention map
// [N, L] (weights summed over layers, heads and queries: how much the decoder read each token).
struct Reading {
    torch::Tensor digits;
    torch::Tensor cells;
    torch::Tensor dam;
};

struct DecoderImpl : torch::nn::Module {
    DecoderImpl(int64_t dim, int64_t heads, int64_t depth, int64_t queries, int64_t cells)
        : queries(register_parameter("queries", torch::randn({1, queries, dim}))),
          norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
          digit_head(register_module("digit_head", torch::nn::Linear(dim, 10))),
          cell_head(register_module("cell_head", torch::nn::Linear(dim, cells))) {
        for (int64_t k = 0; k < depth; ++k)
            layers->push_back(Layer(dim, heads));
        register_module("layers", layers);
    }
    Reading forward(const torch::Tensor& memory) {
        auto x = queries.expand({memory.size(0), -1, -1});
        torch::Tensor dam;
        for (size_t k = 0; k < layers->size(); ++k) {
            auto layer = layers->ptr<LayerImpl>(k);
            x = layer->forward(x, memory);
            auto read = layer->cross->weights.sum({1, 2});
            dam = dam.defined() ? dam + read : read;
        }
        x = norm(x);
        return {digit_head(x), cell_head(x), dam};
    }
    torch::Tensor queries;
    torch::nn::LayerNorm norm;
    torch::nn::Linear digit_head, cell_head;
    torch::nn::Sequential layers;
};
TORCH_MODULE(Decoder);

// Every permutation of 0..k-1 as rows [k!, k] (k <= 6), in lexicographic order.
inline torch::Tensor permutations(int64_t k) {
    std::vector<int64_t> p(static_cast<size_t>(k)), flat;
    std::iota(p.begin(), p.end(), 0);
    do
        flat.insert(flat.end(), p.begin(), p.end());
    while (std::next_permutation(p.begin(), p.end()));
    return torch::tensor(flat, torch::kLong).view({-1, k});
}

// DETR's set loss with its bipartite matching: each example's digits (and their cells) are matched
// to the queries by the permutation of least total cost, cost = the loss itself (digit + cell
// cross-entropy); with as many queries as digits and k! <= 24 the exhaustive search is the
// Hungarian algorithm's answer. Returns the matched loss averaged over digits and examples.
inline torch::Tensor matched_loss(const Reading& r, const torch::Tensor& digits, const torch::Tensor& cells) {
    int64_t n = digits.size(0), k = digits.size(1);
    auto perms = permutations(k).to(digits.device()); // P, k
    auto ld = -torch::log_softmax(r.digits, -1);      // N, Q, 10
    auto lc = -torch::log_softmax(r.cells, -1);       // N, Q, C
    // cost[n][q][j]: query q answering object j.
    auto cost =
        ld.gather(2, digits.unsqueeze(1).expand({n, k, k})) + lc.gather(2, cells.unsqueeze(1).expand({n, k, k}));
    // Permutation p gives object j to query perms[p][j]: sum_j cost[n][perms[p][j]][j].
    auto objects = torch::arange(k, perms.options()).expand({perms.size(0), k});
    auto per_perm = cost.index({torch::indexing::Slice(), perms, objects}).sum(-1); // N, P
    return std::get<0>(per_perm.min(1)).mean() / double(k);
}

// The queries of each example sorted by the cell they predict (ties by query index): reading
// their digits in this order gives the predicted string.
inline torch::Tensor reading_order(const Reading& r) {
    auto cell = r.cells.argmax(-1);                                                     // N, Q
    auto key = cell * r.cells.size(1) + torch::arange(r.cells.size(1), cell.options()); // stable ties
    return torch::argsort(key, 1, false);
}

// The digits of each label, in reading order: y = d0 d1 ... d(slots-1) as a decimal number.
inline torch::Tensor digits_of(const torch::Tensor& y, int64_t slots) {
    std::vector<torch::Tensor> out;
    for (int64_t k = slots - 1; k >= 0; --k)
        out.push_back(torch::floor_divide(y, int64_t(std::llround(std::pow(10.0, double(k))))).remainder(10));
    return torch::stack(out, 1);
}

// Per-slot log-probabilities [N, slots, 10] as logits over every digit string [N, 10^slots]: the
// string's score is the sum of its digits' (the slots are read independently), so the argmax is
// each slot's argmax and a class's accuracy is "every digit right".
inline torch::Tensor string_logits(const torch::Tensor& slot_logits) {
    auto lp = torch::log_softmax(slot_logits, -1);
    auto out = lp.select(1, 0);
    for (int64_t k = 1; k < lp.size(1); ++k)
        out = (out.unsqueeze(-1) + lp.select(1, k).unsqueeze(1)).flatten(1);
    return out;
}

// The encoder (any backbone that exposes patch_tokens: vit) and the decoder over its tokens.
class Learner : public iclr::Learner {
  public:
    Learner(std::shared_ptr<iclr::Backbone> backbone, int64_t heads, int64_t depth, int64_t slots, int64_t cells)
        : backbone_(std::move(backbone)), decoder_(backbone_->feature_dim(), heads, depth, slots, cells),
          slots_(slots) {
        decoder_->to(iclr::module_device(*backbone_)); // drawn on the CPU: the same weights on every device
    }

    iclr::Backbone& backbone() override { return *backbone_; }
    Decoder& decoder() { return decoder_; }
    Reading read(const torch::Tensor& x) {
        backbone_->forward(x);
        auto in = backbone_->internals();
        if (!in.count("patch_tokens")) throw iclr::PluginError("sparse_detr needs a backbone with patch tokens (vit)");
        return decoder_->forward(in.at("patch_tokens"));
    }
    // Logits over digit strings: the queries' digits read in the order of their predicted cells.
    torch::Tensor logits(const torch::Tensor& x, int64_t) override { return string_logits(ordered_digits(read(x))); }
    static torch::Tensor ordered_digits(const Reading& r) {
        auto order = reading_order(r);
        return r.digits.gather(1, order.unsqueeze(-1).expand({-1, -1, r.digits.size(2)}));
    }
    std::vector<torch::Tensor> trainable() override {
        auto p = backbone_->parameters();
        for (auto& t : decoder_->parameters())
            p.push_back(t);
        return p;
    }
    int64_t slots() const { return slots_; }

  private:
    std::shared_ptr<iclr::Backbone> backbone_;
    Decoder decoder_;
    int64_t slots_;
};

// Sparse DETR's scorer target: 1 on the k tokens the decoder read most (DAM's top k, k = how many
// the encoder keeps), 0 elsewhere; the scorer learns it by binary cross-entropy.
inline torch::Tensor dam_target(const torch::Tensor& dam, int64_t k) {
    auto top = std::get<1>(dam.detach().topk(k, 1));
    return torch::zeros_like(dam).scatter_(1, top, 1.0);
}

} // namespace detr
