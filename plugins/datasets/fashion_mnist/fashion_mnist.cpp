// Dataset plugin `fashion_mnist`: Zalando's Fashion-MNIST IDX files as a task stream.
#include "iclr/idx.hpp"

namespace {

class FashionMnist : public iclr::idx::TaskStream {
  public:
    using Params = iclr::idx::StreamParams;
    FashionMnist(const Params& p, iclr::RunContext&) : TaskStream(iclr::idx::kFashionMnist, p) {}
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, FashionMnist, "fashion_mnist", "0.4.0",
            "Xiao, Rasul, Vollgraf. Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms. "
            "arXiv:1708.07747, 2017.",
            "Fashion-MNIST (Debian's dataset-fashion-mnist IDX files) as a stream of tasks")
