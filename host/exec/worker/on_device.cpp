// A benchmark's copy on a GPU (on_device.hpp).
#include "exec/worker/on_device.hpp"

namespace iclr::worker {
namespace {

Split split_on(const Split& s, const torch::Device& device) {
    Split out;
    if (s.x.defined()) out.x = s.x.to(device);
    if (s.y.defined()) out.y = s.y.to(device);
    for (const auto& [name, f] : s.factors)
        out.factors[name] = f.to(device);
    return out;
}

} // namespace

std::shared_ptr<Benchmark> on_device(const Benchmark& b, const torch::Device& device) {
    auto out = std::make_shared<Benchmark>();
    out->name = b.name;
    out->input_shape = b.input_shape;
    out->num_classes = b.num_classes;
    out->episodes = b.episodes; // samples CPU episodes: the few-shot methods do not run on a GPU yet
    for (const Task& t : b.tasks)
        out->tasks.push_back({t.name, t.classes, split_on(t.train, device), split_on(t.test, device)});
    for (const auto& [name, s] : b.shifted_tests)
        out->shifted_tests[name] = split_on(s, device);
    return out;
}

} // namespace iclr::worker
