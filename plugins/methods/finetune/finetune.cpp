// Method plugin `finetune`: plain sequential training over the benchmark's tasks with any objective
// (the forgetting baseline), optionally from a backbone pretrained on the sweep's [pretrain] data set.
#include "iclr/pretrain.hpp"
#include "iclr/sdk.hpp"

namespace {

class Finetune : public iclr::PretrainedMethod {
  public:
    struct Params : iclr::ContinualParams {
        // The forgetting sweep's defaults (Ramasesh et al.'s setting: plain SGD), not LUMP's.
        Params() : ContinualParams(iclr::ContinualDefaults{0.01, 0.0, 64}) {}
        iclr::PretrainParams pretrain;
    };

    Finetune(const Params& p, iclr::RunContext&) : PretrainedMethod(p, p.pretrain) {}
};

} // namespace

ICLR_PLUGIN(iclr::Method, Finetune, "finetune", "0.6.0",
            "Sequential fine-tuning baseline, as in Ramasesh, Lewkowycz, Dyer. Effect of scale on catastrophic "
            "forgetting in neural networks. ICLR 2022.",
            "train the tasks one after another (no replay, no regularisation) with any objective; optional "
            "pretraining on [pretrain], cached")
