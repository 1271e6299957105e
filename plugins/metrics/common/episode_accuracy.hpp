// Shared by the few-shot metrics: query accuracy over a split's fixed episodes (iclr::episode_at),
// each adapted to by the learner, as a mean with the half-width of its 95% interval.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "iclr/fewshot.hpp"
#include "iclr/sdk.hpp"

namespace iclr_metrics {

struct EpisodeAccuracy {
    double mean = 0, ci95 = 0; // ci95: 1.96 sd / sqrt(N), sd over episodes
};

// The same episodes for every learner and trial: episode i of `split` is episode_at(seed, i).
inline EpisodeAccuracy episode_accuracy(iclr::EpisodeLearner& learner, iclr::EpisodeSampler& sampler,
                                        const std::string& split, uint64_t seed, int64_t episodes,
                                        iclr::RunContext& ctx) {
    double sum = 0, sum2 = 0;
    for (int64_t i = 0; i < episodes; ++i) {
        ctx.check_cancelled();
        iclr::Episode ep = iclr::episode_at(sampler, split, seed, uint64_t(i));
        auto logits = learner.episode_logits(ep);
        double acc = logits.argmax(1).eq(ep.query.y).to(torch::kDouble).mean().item<double>();
        sum += acc;
        sum2 += acc * acc;
    }
    double n = double(episodes), mean = sum / n;
    double sd = episodes > 1 ? std::sqrt(std::max(0.0, (sum2 - n * mean * mean) / (n - 1))) : 0.0;
    return {mean, 1.96 * sd / std::sqrt(n)};
}

// The data set's episodes, or a one-line error naming the metric.
inline iclr::EpisodeSampler& episodes_of(const char* metric, const iclr::Benchmark& b) {
    if (!b.episodes) throw iclr::PluginError(std::string(metric) + ": data set '" + b.name + "' makes no episodes");
    return *b.episodes;
}

// The learner as an episode learner (of a data set that makes episodes), or a one-line error.
inline iclr::EpisodeLearner& episode_learner(const char* metric, iclr::Learner& learner, const iclr::Benchmark& b) {
    episodes_of(metric, b);
    auto* el = dynamic_cast<iclr::EpisodeLearner*>(&learner);
    if (!el) throw iclr::PluginError(std::string(metric) + ": the method's learner cannot adapt to episodes");
    return *el;
}

} // namespace iclr_metrics
