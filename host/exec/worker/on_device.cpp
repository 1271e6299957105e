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

// The data set's sampler, its episodes copied to the device as they are drawn (the sampler draws
// from CPU pools: the same episodes on every device).
class EpisodesOn : public EpisodeSampler {
  public:
    EpisodesOn(std::shared_ptr<EpisodeSampler> inner, const torch::Device& device)
        : inner_(std::move(inner)), device_(device) {}
    Episode sample(const std::string& split, std::mt19937_64& rng) override {
        Episode e = inner_->sample(split, rng);
        return {split_on(e.support, device_), split_on(e.query, device_), e.ways, e.shots};
    }

  private:
    std::shared_ptr<EpisodeSampler> inner_;
    torch::Device device_;
};

} // namespace

std::shared_ptr<Benchmark> on_device(const Benchmark& b, const torch::Device& device) {
    auto out = std::make_shared<Benchmark>();
    out->name = b.name;
    out->input_shape = b.input_shape;
    out->num_classes = b.num_classes;
    if (b.episodes) out->episodes = std::make_shared<EpisodesOn>(b.episodes, device);
    for (const Task& t : b.tasks)
        out->tasks.push_back({t.name, t.classes, split_on(t.train, device), split_on(t.test, device)});
    for (const auto& [name, s] : b.shifted_tests)
        out->shifted_tests[name] = split_on(s, device);
    return out;
}

} // namespace iclr::worker
