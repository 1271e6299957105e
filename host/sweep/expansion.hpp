// Lazy sweep expansion: trial i is decoded from its index, so a million-point grid costs no memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sweep/sweep.hpp"

namespace iclr {

struct TrialPoint {
    uint64_t index = 0; // position in [0, raw_count())
    int64_t seed = 0;
    std::vector<Value> axis_values; // one per SweepSpec::axes
};

// Trial order: grid dimensions (last axis fastest), then random samples, then seeds innermost,
// so the seeds of one configuration run next to each other.
class Expansion {
  public:
    explicit Expansion(const SweepSpec& spec); // throws SweepError when the count overflows 2^63
    uint64_t raw_count() const { return raw_count_; }
    TrialPoint at(uint64_t index) const;
    bool excluded(const TrialPoint& p) const;
    // Number of grid dimensions (zip groups count once) and their sizes.
    const std::vector<uint64_t>& dim_sizes() const { return dim_size_; }
    // The grid dimension of an axis (-1 for a random one), and the random draws per grid point.
    // A trial's index is (grid point * samples + draw) * seeds + seed, the grid point's last
    // dimension fastest.
    int axis_dim(size_t axis) const { return axis_dim_[axis]; }
    uint64_t samples() const { return samples_; }

    // Calls f(point) for every non-excluded trial in order; f returns false to stop early.
    template <class F> void for_each(F&& f) const {
        TrialPoint p;
        for (uint64_t i = 0; i < raw_count_; ++i) {
            decode(i, p);
            if (!excluded(p) && !f(p)) return;
        }
    }

  private:
    void decode(uint64_t index, TrialPoint& p) const;
    const SweepSpec& spec_;
    std::vector<uint64_t> dim_size_;
    std::vector<int> axis_dim_; // grid axis -> dimension; -1 for random axes
    uint64_t samples_ = 1;
    uint64_t raw_count_ = 0;
    // exclude rules with each condition's label resolved to its axis once, not per trial
    std::vector<std::vector<std::pair<size_t, const ExcludeRule::Cond*>>> rules_;
};

// "model.width=64 method.lr=0.01 seed=0": a trial as progress lines and `iclr plan` show it.
std::string describe_point(const SweepSpec& spec, const TrialPoint& p);

} // namespace iclr
