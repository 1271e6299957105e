// Learner and Event: what a method exposes to metrics while it trains.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "iclr/dataset.hpp"
#include "iclr/model.hpp"

namespace iclr {

// The trained thing as metrics see it. Methods own the heads, so they own logits();
// loss() must be differentiable twice so Hessian metrics can run power iteration on it.
class ICLR_SDK_API Learner {
  public:
    virtual ~Learner() = default;
    virtual Backbone& backbone() = 0;
    // task >= 0: task-incremental (logits outside the task's classes masked to -inf);
    // task < 0: class-incremental over all classes seen.
    virtual torch::Tensor logits(const torch::Tensor& x, int64_t task) = 0;
    virtual torch::Tensor features(const torch::Tensor& x) { return backbone().forward(x); }
    virtual torch::Tensor loss(const torch::Tensor& x, const torch::Tensor& y, int64_t task) {
        return torch::nn::functional::cross_entropy(logits(x, task), y);
    }
    // All trainable parameters (backbone and heads), for Hessian-vector products.
    virtual std::vector<torch::Tensor> trainable() = 0;
};

// Optional, for learners whose features depend on the task (one column per task: PNN). A metric
// that evaluates task t asks for it with dynamic_cast<TaskFeatures*>(&learner) and otherwise uses
// features(x). A separate type, not a virtual appended to Learner, so that metrics built at 1.3
// can be handed learners from older method plugins (their vtables stop at trainable()).
class ICLR_SDK_API TaskFeatures {
  public:
    virtual ~TaskFeatures() = default;
    virtual torch::Tensor task_features(const torch::Tensor& x, int64_t task) = 0;
};

// Optional, for few-shot learners (ProtoNet, MAML): adapt to an episode's support set and score its
// query set. A metric finds it with dynamic_cast<EpisodeLearner*>(&learner); a separate type, as
// TaskFeatures, so that a learner from an older method plugin still reaches a newer metric.
class ICLR_SDK_API EpisodeLearner {
  public:
    virtual ~EpisodeLearner() = default;
    // Logits [query size, episode.ways] of episode.query.x after adapting to episode.support
    // (ProtoNet: class prototypes; MAML: the inner loop), with labels 0..ways-1 as the episode's.
    // Leaves the learner as it found it: one episode's adaptation never reaches the next.
    virtual torch::Tensor episode_logits(const Episode& episode) = 0;
};

enum class EventKind { TaskEnd, Step, End };

// When metrics run: after each task of a stream, every N steps (a method's choice), at the end.
struct Event {
    EventKind kind = EventKind::End;
    int64_t task = -1; // the task just finished (TaskEnd) or being trained (Step)
    int64_t step = 0;  // global optimiser step count
};

} // namespace iclr
