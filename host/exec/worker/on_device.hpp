// A benchmark's copy on a GPU, for the trials a worker runs there (RunContext::device).
#pragma once

#include <memory>

#include <torch/torch.h>

#include "iclr/dataset.hpp"

namespace iclr::worker {

// Every split's tensors (tasks' train and test, shifted tests, factors) copied to `device`, and the
// episode sampler's episodes as they are drawn; the name, shapes and classes as `b`'s. Decoding and
// the data cache stay on the CPU (the cache maps files), so a worker makes this copy once per data
// set and device.
std::shared_ptr<Benchmark> on_device(const Benchmark& b, const torch::Device& device);

} // namespace iclr::worker
