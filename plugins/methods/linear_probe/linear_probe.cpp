// Method plugin `linear_probe`: the (pretrained) backbone frozen, a linear head trained on its
// features: LP in Kumar et al., "Fine-Tuning can Distort Pretrained Features", ICLR 2022.
#include "iclr/pretrain.hpp"
#include "iclr/sdk.hpp"

namespace {

class LinearProbe : public iclr::PretrainedMethod {
  public:
    struct Params : iclr::ContinualParams {
        Params() : ContinualParams(iclr::ContinualDefaults{0.01, 0.0, 64}) {} // finetune's, so the two compare
        iclr::PretrainParams pretrain;
    };

    LinearProbe(const Params& p, iclr::RunContext&) : PretrainedMethod(p, p.pretrain, /*frozen=*/true) {
        require_supervised(p, "linear_probe");
    }
};

} // namespace

ICLR_PLUGIN(iclr::Method, LinearProbe, "linear_probe", "0.1.0",
            "Kumar, Raghunathan, Jones, Ma, Liang. Fine-Tuning can Distort Pretrained Features and Underperform "
            "Out-of-Distribution. ICLR 2022.",
            "linear probing: the backbone (optionally pretrained on [pretrain], cached) frozen in eval mode, only "
            "the linear head trained")
