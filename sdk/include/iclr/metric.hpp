// Metric plugins: evaluated at events; stateful across one trial (accuracy matrix, forgetting).
#pragma once

#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"

namespace iclr {

// One metric object lives for one trial, so it can keep history: the accuracy matrix a[t][i]
// logged at TaskEnd events gives forgetting and BWT at End. Metrics needing internals read
// learner.backbone().internals(); metrics needing the loss (Hessian eigenvalue) use learner.loss().
class ICLR_SDK_API Metric {
  public:
    virtual ~Metric() = default;
    virtual void on_event(const Event& event, Learner& learner, const Benchmark& benchmark, RunContext& ctx) = 0;
};

} // namespace iclr
