// Dataset plugins: turn real data files into a Benchmark (task stream, shifted tests, episodes).
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "iclr/context.hpp"

namespace iclr {

// Examples x ([N, ...input_shape], float, normalised) with labels y ([N], int64, global class ids).
struct Split {
    torch::Tensor x;
    torch::Tensor y;
    // The known generative factors of each example, by name: [N] int64, the factor's level (e.g.
    // shapes: shape, size, x, y, rotation, intensity). Only data sets that render their examples
    // know them; empty otherwise. Disentanglement metrics read them.
    std::map<std::string, torch::Tensor> factors{};
    int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

// One task of a stream. `classes` are the global class ids the task uses: a task-incremental
// head masks logits to them; class-incremental evaluation ignores them.
struct Task {
    std::string name;
    std::vector<int64_t> classes;
    Split train;
    Split test;
};

// Few-shot work (MAML, ProtoNet, MLTI, UNICORN-MAML): an N-way K-shot episode whose labels are
// re-indexed 0..N-1. Inner loops adapt on support, outer losses use query.
struct Episode {
    Split support;
    Split query;
    int64_t ways = 0;
    int64_t shots = 0;
};

class ICLR_SDK_API EpisodeSampler {
  public:
    virtual ~EpisodeSampler() = default;
    // split is "train" (meta-training classes) or "test" (held-out classes).
    virtual Episode sample(const std::string& split, std::mt19937_64& rng) = 0;
};

// What a dataset produces. Examples of how each paper family uses it:
//  - continual (finetune, LUMP, forgetting-vs-scale): tasks = Split MNIST 5x2, permuted, rotated;
//  - plain supervised / SSL pretraining (VICReg, E-SSL, LOOK): one task holding the whole set;
//  - LP-FT: tasks[0] is in-distribution, shifted_tests holds "rotated", "noisy", ... (OOD);
//  - meta-learning: episodes != nullptr (tasks may be empty);
//  - SIFAR: input_shape = {T, C, H, W}, x holds clips of T frames.
struct Benchmark {
    std::string name;
    std::vector<int64_t> input_shape; // per example, without the batch dimension
    int64_t num_classes = 0;
    std::vector<Task> tasks;
    std::map<std::string, Split> shifted_tests;
    std::shared_ptr<EpisodeSampler> episodes;
};

class ICLR_SDK_API Dataset {
  public:
    virtual ~Dataset() = default;
    // Must be a function of the plugin's parameters and the data folder only (randomness from a
    // parameter such as split_seed, not ctx.seed()): a worker reuses the result for later trials
    // with the same dataset parameters, whatever their seed, and the host's data cache
    // (results/cache/data/) hands it, mapped from a file, to later workers and runs.
    virtual Benchmark load(RunContext& ctx) = 0;
};

} // namespace iclr
