// Method plugins: train a learner over a benchmark's tasks or episodes and report events.
#pragma once

#include <functional>
#include <memory>

#include "iclr/dataset.hpp"
#include "iclr/learner.hpp"

namespace iclr {

// What a method gets for one trial. How paper families use it:
//  - continual: loop over benchmark().tasks, train, notify({TaskEnd, t, step}, learner);
//    replay methods keep an iclr::ReservoirBuffer (replay.hpp);
//  - SSL: two views per batch from an iclr::Augment pipeline (augment.hpp); metrics probe
//    learner.features() with kNN / linear probes;
//  - meta-learning: benchmark().episodes->sample(...) in the outer loop; inner loops use
//    torch::autograd::grad(..., create_graph = true) for second-order MAML;
//  - SAM / Hessian papers: metrics call learner.loss() and differentiate twice;
//  - pretraining stages (LP-FT, forgetting-vs-scale): the sweep's [pretrain] data set via
//    pretrain_benchmark(); the backbone trained on it once per content key (built from
//    config_text("pretrain"), config_text("model"), the pretraining settings and the seed) and
//    shared by later trials through iclr::BackboneCache (cache.hpp), which records the key.
class ICLR_SDK_API Session {
  public:
    virtual ~Session() = default;
    virtual const Benchmark& benchmark() = 0;
    // A fresh backbone from the trial's model plugin (throws if the sweep has no [model]).
    virtual std::shared_ptr<Backbone> new_backbone() = 0;
    // Runs every metric of the trial on this event; metrics may log through ctx().
    virtual void notify(const Event& event, Learner& learner) = 0;
    virtual RunContext& ctx() = 0;
    // The sweep's [pretrain] data set, loaded on first use; nullptr when the sweep has none. A method
    // that calls it declares `static constexpr bool reads_pretrain = true;` (plugin.hpp): the trials
    // of other methods leave [pretrain] out of their config, and the worker refuses their call.
    virtual const Benchmark* pretrain_benchmark() = 0;
    // This trial's section as canonical text (plugin, version, every parameter, library SHA-256),
    // for content keys: role is "dataset", "pretrain", "model" or "method"; "" if no such section.
    virtual std::string config_text(const std::string& role) = 0;
};

class ICLR_SDK_API Method {
  public:
    virtual ~Method() = default;
    virtual void run(Session& session) = 0;
};

} // namespace iclr
