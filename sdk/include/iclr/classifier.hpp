// ClassifierLearner: a backbone plus one linear head over all classes, for supervised methods.
#pragma once

#include <limits>

#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"

namespace iclr {

// Task-incremental logits (task >= 0) mask the other tasks' classes to -inf, the usual
// multi-head-by-masking setup; class-incremental logits (task < 0) keep every class.
class ClassifierLearner : public Learner {
  public:
    ClassifierLearner(std::shared_ptr<Backbone> backbone, const Benchmark& bench)
        : backbone_(std::move(backbone)), head_(backbone_->feature_dim(), bench.num_classes), bench_(bench) {
        head_->to(module_device(*backbone_));
    }

    Backbone& backbone() override { return *backbone_; }
    torch::nn::Linear& head() { return head_; }

    torch::Tensor logits(const torch::Tensor& x, int64_t task) override {
        auto out = head_->forward(backbone_->forward(x));
        if (task < 0) return out;
        auto mask = torch::full({out.size(1)}, -std::numeric_limits<float>::infinity(), out.options());
        for (int64_t c : bench_.tasks.at(size_t(task)).classes)
            mask[c] = 0.0f;
        return out + mask;
    }

    std::vector<torch::Tensor> trainable() override {
        auto p = backbone_->parameters();
        for (auto& t : head_->parameters())
            p.push_back(t);
        return p;
    }

  private:
    std::shared_ptr<Backbone> backbone_;
    torch::nn::Linear head_;
    const Benchmark& bench_;
};

} // namespace iclr
