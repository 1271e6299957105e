// ReservoirBuffer: uniform-over-stream replay memory for continual methods (LUMP, DER, A-GEM).
#pragma once

#include <random>
#include <vector>

#include <torch/torch.h>

namespace iclr {

// Algorithm R (Vitter): after n examples seen, each is in the buffer with probability cap/n.
class ReservoirBuffer {
  public:
    explicit ReservoirBuffer(int64_t capacity) : capacity_(capacity) {}

    void add(const torch::Tensor& x, const torch::Tensor& y, std::mt19937_64& rng) {
        for (int64_t i = 0; i < x.size(0); ++i) {
            ++seen_;
            if (int64_t(xs_.size()) < capacity_) {
                xs_.push_back(x[i].clone());
                ys_.push_back(y[i].clone());
            } else {
                int64_t j = std::uniform_int_distribution<int64_t>(0, seen_ - 1)(rng);
                if (j < capacity_) {
                    xs_[j] = x[i].clone();
                    ys_[j] = y[i].clone();
                }
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
    int64_t capacity_;
    int64_t seen_ = 0;
    std::vector<torch::Tensor> xs_, ys_;
};

} // namespace iclr
