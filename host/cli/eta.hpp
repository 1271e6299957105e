// Time left in a sweep, from the trials' expected costs and the durations of those finished.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

namespace iclr {

// The queue runs longest first (run_plan.hpp's trial_cost), so wall time per finished trial times
// the trials left overstates what is left: 6x through the first fifth of the forgetting sweep.
// Instead each trial left is expected to take the mean duration of the finished trials of its cost,
// or, for a cost none has finished at, that of the nearest cost seen, scaled by exp(beta x the cost
// difference). A cost is a sum of log sizes, so beta = 1 says time grows with the product of the
// sizes; once two costs have finished, beta is the slope of log mean duration against cost over
// them, clamped to [0, 1], so a sweep whose sizes do not set its times (mlti's: the cost order was
// wrong there) falls back towards the plain estimate. What is left is then the wall time so far
// times expected seconds left / seconds finished; with one cost throughout, the plain estimate.
class CostEta {
  public:
    explicit CostEta(std::unordered_map<int64_t, float> cost_by_run); // every trial to run
    void finished(int64_t run, double seconds);                       // runs not given are ignored
    // Seconds left after `elapsed` seconds of wall time; nullopt until a trial finished with a
    // duration above zero.
    std::optional<double> left(double elapsed) const;

  private:
    double slope() const;
    double expected_seconds(float cost, double beta) const;
    using Seen = std::pair<int64_t, double>; // finished trials of a cost, their seconds
    static double mean(const Seen& s) { return s.second / double(s.first); }
    std::unordered_map<int64_t, float> unfinished_; // run -> cost
    std::map<float, int64_t> left_by_cost_;         // cost -> trials not finished
    std::map<float, Seen> seen_;                    // cost -> finished trials, their seconds
    double finished_seconds_ = 0;
};

} // namespace iclr
