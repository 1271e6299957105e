// ReservoirBuffer: uniform-over-stream replay memory for continual methods (LUMP, DER, A-GEM).
#pragma once

#include <random>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// Algorithm R (Vitter): where the next example of a stream goes in a buffer of `capacity`, so
// that after n examples each is in the buffer with probability capacity / n. For methods that
// keep their own fields per slot (DER: inputs, outputs, labels, tasks).
class ReservoirSlots {
  public:
    explicit ReservoirSlots(int64_t capacity) : capacity_(capacity) {}
    // The slot for the next example: the next free one while the buffer fills (append), then a
    // uniform draw over everything seen, -1 when the example is not kept.
    int64_t next(std::mt19937_64& rng) {
        ++seen_;
        if (filled_ < capacity_) return filled_++;
        int64_t j = std::uniform_int_distribution<int64_t>(0, seen_ - 1)(rng);
        return j < capacity_ ? j : -1;
    }

  private:
    int64_t capacity_, seen_ = 0, filled_ = 0;
};

// A reservoir of (x, y) examples.
class ReservoirBuffer {
  public:
    explicit ReservoirBuffer(int64_t capacity) : slots_(capacity) {}

    void add(const torch::Tensor& x, const torch::Tensor& y, std::mt19937_64& rng) {
        for (int64_t i = 0; i < x.size(0); ++i) {
            int64_t j = slots_.next(rng);
            if (j < 0) continue;
            if (j == int64_t(xs_.size())) {
                xs_.push_back(x[i].clone());
                ys_.push_back(y[i].clone());
            } else {
                xs_[size_t(j)] = x[i].clone();
                ys_[size_t(j)] = y[i].clone();
            }
        }
    }
    // A random batch of up to n stored examples (x, y); empty tensors when the buffer is empty.
    std::pair<torch::Tensor, torch::Tensor> sample(int64_t n, std::mt19937_64& rng) const {
        if (xs_.empty()) return {};
        std::vector<torch::Tensor> bx, by;
        std::uniform_int_distribution<size_t> pick(0, xs_.size() - 1);
        for (int64_t k = 0; k < n; ++k) {
            size_t j = pick(rng);
            bx.push_back(xs_[j]);
            by.push_back(ys_[j]);
        }
        return {torch::stack(bx), torch::stack(by)};
    }
    int64_t size() const { return int64_t(xs_.size()); }

  private:
    ReservoirSlots slots_;
    std::vector<torch::Tensor> xs_, ys_;
};

} // namespace iclr
