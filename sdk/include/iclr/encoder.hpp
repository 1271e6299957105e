// The learner a pretraining method hands to metrics when it trained no classifier head: the
// backbone's features only (kNN, linear probe, collapse), logits() refused in one line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "iclr/learner.hpp"
#include "iclr/params.hpp"

namespace iclr {

class Encoder : public Learner {
  public:
    // method: the plugin's name, for the refusal.
    Encoder(std::shared_ptr<Backbone> b, std::string method) : b_(std::move(b)), method_(std::move(method)) {}
    Backbone& backbone() override { return *b_; }
    torch::Tensor logits(const torch::Tensor&, int64_t) override {
        throw PluginError(method_ + " trains no classifier head: evaluate it with knn_accuracy or linear_probe");
    }
    std::vector<torch::Tensor> trainable() override { return b_->parameters(); }

  private:
    std::shared_ptr<Backbone> b_;
    std::string method_;
};

} // namespace iclr
