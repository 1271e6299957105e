// Time left in a sweep, from the trials' expected costs and the durations of those finished.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace iclr {

// The queue runs longest first (run_plan.hpp's TrialCosts), so wall time per finished trial times
// the trials left overstates what is left: 6x through the first fifth of the forgetting sweep.
// Instead each trial left is expected to take the mean duration of the finished trials of its cost,
// or, for a cost none has finished at, that of the nearest cost seen, scaled by exp(beta x the cost
// difference). A cost is a sum of log sizes, so beta = 1 says time grows with the product of the
// sizes; once two costs have finished, beta is the slope of log mean duration against cost over
// them, clamped to [0, 1], so a sweep whose sizes do not set its times (mlti's: the cost order was
// wrong there) falls back towards the plain estimate. What is left is then the wall time so far
// times expected seconds left / seconds of work done; with one cost throughout, the plain estimate.
// Work done counts the running trials' time so far (and what is left of them their expected time
// less that), else with n workers the first trial to finish would be read as 1/n of the work done
// and the first estimates would be n times too long (2x: "14m21s" with 7 min left at two workers).
// A cost none has finished at is expected to take at least as long as its longest running trial
// has run so far: where a size does not set the time, the estimate rises while that trial runs.
class CostEta {
  public:
    explicit CostEta(std::unordered_map<int64_t, float> cost_by_run); // every trial to run
    void started(int64_t run, double at);       // `at`: seconds of wall time since the sweep began
    void stopped(int64_t run);                  // stopped unfinished (a Slurm task to be requeued): its time is lost
    void finished(int64_t run, double seconds); // runs not given are ignored
    // Seconds left after `elapsed` seconds of wall time; nullopt until a trial finished with a
    // duration above zero.
    std::optional<double> left(double elapsed) const;
    // What left() divides: seconds of work expected left (0 until a trial finished) and done (the
    // running trials' time so far included), the finished trials' seconds, the trials finished and not.
    struct Work {
        double left = 0, done = 0, finished_seconds = 0;
        int64_t finished = 0, unfinished = 0;
    };
    Work work(double elapsed) const;

  private:
    double slope() const;
    double expected_seconds(float cost, double beta, double floor) const;
    std::map<float, double> running_longest(double elapsed) const;
    using Seen = std::pair<int64_t, double>; // finished trials of a cost, their seconds
    static double mean(const Seen& s) { return s.second / double(s.first); }
    std::unordered_map<int64_t, float> unfinished_; // run -> cost
    std::unordered_map<int64_t, double> running_;   // run -> when it started (seconds of wall time)
    std::map<float, int64_t> left_by_cost_;         // cost -> trials not finished
    std::map<float, Seen> seen_;                    // cost -> finished trials, their seconds
    double finished_seconds_ = 0;
    int64_t finished_ = 0;
};

// The trials of several sweeps in one queue (`iclr run A B`, run_group.cpp): a cost compares within
// its sweep only (each sweep's sizes are its plugins' own), so each sweep has its own CostEta, and
// the time left is the wall time so far times the seconds of work left over those done, summed over
// the sweeps. A sweep none of whose trials has finished is expected to take, for each trial, the
// mean of the trials finished so far. With one sweep it is that sweep's CostEta::left.
class GroupEta {
  public:
    explicit GroupEta(std::vector<std::unordered_map<int64_t, float>> cost_by_run); // by sweep
    void started(int64_t run, double at);
    void stopped(int64_t run);
    void finished(int64_t run, double seconds);
    std::optional<double> left(double elapsed) const;

  private:
    std::vector<CostEta> sweeps_;
    std::unordered_map<int64_t, size_t> sweep_of_; // run -> its sweep's place in sweeps_
};

} // namespace iclr
