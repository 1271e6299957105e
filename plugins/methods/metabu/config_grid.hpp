// The hyper-parameter grid MetaBu recommends from: a one-hidden-layer MLP (or, width 0, a linear
// softmax classifier) trained by SGD with momentum, over learning rate x width x weight decay; each
// configuration's test accuracy on each data set forms the performance matrix.
#pragma once

#include <sstream>

#include "iclr/sdk.hpp"

namespace metabu {

struct Config {
    double lr = 0, weight_decay = 0;
    int64_t width = 0;
    std::vector<double> code; // ordinal position of each value in its grid, in [0, 1]
    std::string name() const {
        std::ostringstream o;
        o << "lr=" << lr << " width=" << width << " wd=" << weight_decay;
        return o.str();
    }
};

// A list parameter's values as numbers (TOML integers or floats), refusing an empty list.
inline std::vector<double> numbers(const iclr::List& list) {
    std::vector<double> out;
    for (const auto& v : list().list) {
        if (v.type != iclr::Value::Type::Int && v.type != iclr::Value::Type::Float)
            throw iclr::PluginError(std::string("metabu: ") + list.name() + " must list numbers");
        out.push_back(v.as_number());
    }
    if (out.empty()) throw iclr::PluginError(std::string("metabu: ") + list.name() + " is empty");
    return out;
}

// Every combination, learning rate outermost. A value's code is its index / (levels - 1): the grids
// are log-spaced, so this is the min-max scaled log value, the same for every hyper-parameter.
inline std::vector<Config> grid(const std::vector<double>& lrs, const std::vector<double>& widths,
                                const std::vector<double>& decays) {
    auto code = [](size_t i, size_t n) { return n > 1 ? double(i) / double(n - 1) : 0.0; };
    std::vector<Config> out;
    for (size_t a = 0; a < lrs.size(); ++a)
        for (size_t b = 0; b < widths.size(); ++b)
            for (size_t c = 0; c < decays.size(); ++c)
                out.push_back({lrs[a],
                               decays[c],
                               int64_t(widths[b]),
                               {code(a, lrs.size()), code(b, widths.size()), code(c, decays.size())}});
    return out;
}

struct TrainSettings {
    int64_t epochs = 10, batch_size = 32;
    double momentum = 0.9;
};

// Test accuracy of `c` trained on the task from a seed of its own (the same for every trial, so the
// matrix is a function of the data and the grid). A diverged run (non-finite loss) scores as its
// predictions fall, usually at chance: a configuration that diverges is a bad recommendation.
inline double train_and_score(const iclr::Task& task, const Config& c, const TrainSettings& s, uint64_t seed,
                              iclr::RunContext* ctx = nullptr) {
    auto lookup = torch::full({64}, int64_t(-1), torch::kInt64);
    for (size_t i = 0; i < task.classes.size(); ++i)
        lookup[task.classes[i]] = int64_t(i);
    lookup = lookup.to(task.train.y.device());
    auto local = [&](const torch::Tensor& y) { return lookup.index_select(0, y); };
    const int64_t k = int64_t(task.classes.size()), in = task.train.x[0].numel();
    torch::manual_seed(seed);
    torch::nn::Sequential net;
    if (c.width > 0) {
        net->push_back(torch::nn::Linear(in, c.width));
        net->push_back(torch::nn::ReLU());
        net->push_back(torch::nn::Linear(c.width, k));
    } else {
        net->push_back(torch::nn::Linear(in, k));
    }
    net->to(task.train.x.device()); // drawn on the CPU: the same weights on every device
    auto opt = iclr::make_optimizer("sgd", net->parameters(), c.lr, s.momentum, c.weight_decay);
    iclr::Split train{task.train.x.flatten(1), local(task.train.y)};
    auto gen = iclr::make_generator(seed, 0xb7);
    for (int64_t e = 0; e < s.epochs; ++e)
        for (const auto& batch : iclr::Batches(train, s.batch_size, gen, ctx)) {
            auto loss = torch::nn::functional::cross_entropy(net->forward(batch.x), batch.y);
            opt->zero_grad();
            loss.backward();
            opt->step();
        }
    torch::NoGradGuard ng;
    auto pred = net->forward(task.test.x.flatten(1)).argmax(1);
    return (pred == local(task.test.y)).to(torch::kDouble).mean().item<double>();
}

} // namespace metabu
