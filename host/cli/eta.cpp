// Time left in a sweep, from the trials' expected costs and the durations of those finished.
#include "cli/eta.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

namespace iclr {

CostEta::CostEta(std::unordered_map<int64_t, float> cost_by_run) : unfinished_(std::move(cost_by_run)) {
    for (const auto& [run, cost] : unfinished_)
        ++left_by_cost_[cost];
}

void CostEta::started(int64_t run, double at) {
    if (unfinished_.count(run)) running_[run] = at; // a trial started again (Slurm requeue): from now
}

// A trial interrupted to be run again later is not running: what it had done is not work done (its
// rerun starts over) and its whole expected time is still left; `started` counts it again.
void CostEta::stopped(int64_t run) { running_.erase(run); }

void CostEta::finished(int64_t run, double seconds) {
    auto it = unfinished_.find(run);
    if (it == unfinished_.end()) return;
    float cost = it->second;
    unfinished_.erase(it);
    running_.erase(run);
    if (--left_by_cost_[cost] == 0) left_by_cost_.erase(cost);
    seconds = std::max(seconds, 0.0);
    auto& [n, total] = seen_[cost];
    ++n;
    total += seconds;
    finished_seconds_ += seconds;
    ++finished_;
}

// Weighted least-squares slope of log mean seconds against cost over the costs seen, in [0, 1];
// 1 (the plan's own model) until two costs with durations have finished.
double CostEta::slope() const {
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    int costs = 0;
    for (const auto& [cost, seen] : seen_) {
        if (seen.second <= 0) continue;
        double w = double(seen.first), x = cost, y = std::log(mean(seen));
        n += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
        ++costs;
    }
    double var = sxx - sx * sx / n;
    if (costs < 2 || var <= 0) return 1;
    return std::clamp((sxy - sx * sy / n) / var, 0.0, 1.0);
}

// The mean at this cost, or the nearest seen cost's mean scaled by exp(beta x the difference),
// but never less than `floor`: how long a trial of this cost has already run.
double CostEta::expected_seconds(float cost, double beta, double floor) const {
    auto above = seen_.lower_bound(cost);
    if (above != seen_.end() && above->first == cost) return mean(above->second);
    auto nearest = above;
    if (above == seen_.end() || (above != seen_.begin() && cost - std::prev(above)->first < above->first - cost))
        nearest = std::prev(above);
    return std::max(floor, mean(nearest->second) * std::exp(beta * (double(cost) - double(nearest->first))));
}

// For each cost, the longest a running trial of it has run: a lower bound on what its trials take.
// Only a cost none has finished at uses it (expected_seconds): there the estimate is an
// extrapolation along the plan's sizes, and a size that does not set the time (task_induced's
// distractors: 0 against 24 read as 25x cheaper) would otherwise keep saying "17 s left" for the
// minutes its first trials run.
std::map<float, double> CostEta::running_longest(double elapsed) const {
    std::map<float, double> longest;
    for (const auto& [run, at] : running_) {
        double& l = longest[unfinished_.at(run)];
        l = std::max(l, elapsed - at);
    }
    return longest;
}

CostEta::Work CostEta::work(double elapsed) const {
    Work w{0, finished_seconds_, finished_seconds_, finished_, int64_t(unfinished_.size())};
    bool known = finished_seconds_ > 0; // else nothing to expect from yet
    double beta = known ? slope() : 1;
    auto longest = running_longest(elapsed);
    auto expected_at = [&](float cost) {
        auto it = longest.find(cost);
        return expected_seconds(cost, beta, it == longest.end() ? 0 : it->second);
    };
    if (known)
        for (const auto& [cost, n] : left_by_cost_)
            w.left += double(n) * expected_at(cost);
    for (const auto& [run, at] : running_) { // a running trial: its time so far is done, not left
        double ran = std::max(0.0, elapsed - at);
        w.done += ran;
        if (known) w.left -= std::min(ran, expected_at(unfinished_.at(run)));
    }
    w.left = std::max(0.0, w.left);
    return w;
}

std::optional<double> CostEta::left(double elapsed) const {
    if (finished_seconds_ <= 0) return std::nullopt;
    Work w = work(elapsed);
    return elapsed * w.left / w.done;
}

GroupEta::GroupEta(std::vector<std::unordered_map<int64_t, float>> cost_by_run) {
    for (auto& costs : cost_by_run) {
        for (const auto& [run, cost] : costs)
            sweep_of_[run] = sweeps_.size();
        sweeps_.emplace_back(std::move(costs));
    }
}

void GroupEta::started(int64_t run, double at) {
    if (auto it = sweep_of_.find(run); it != sweep_of_.end()) sweeps_[it->second].started(run, at);
}

void GroupEta::stopped(int64_t run) {
    if (auto it = sweep_of_.find(run); it != sweep_of_.end()) sweeps_[it->second].stopped(run);
}

void GroupEta::finished(int64_t run, double seconds) {
    if (auto it = sweep_of_.find(run); it != sweep_of_.end()) sweeps_[it->second].finished(run, seconds);
}

std::optional<double> GroupEta::left(double elapsed) const {
    if (sweeps_.size() == 1) return sweeps_.front().left(elapsed);
    double left = 0, done = 0, finished_seconds = 0, unseen_ran = 0;
    int64_t finished = 0, unseen = 0; // trials of sweeps none of whose trials has finished
    for (const CostEta& sweep : sweeps_) {
        CostEta::Work w = sweep.work(elapsed);
        finished += w.finished;
        finished_seconds += w.finished_seconds;
        if (w.finished_seconds > 0) {
            left += w.left, done += w.done;
        } else {
            unseen += w.unfinished, unseen_ran += w.done;
        }
    }
    if (finished_seconds <= 0) return std::nullopt;
    left += std::max(0.0, double(unseen) * finished_seconds / double(finished) - unseen_ran);
    done += unseen_ran;
    return elapsed * left / done;
}

} // namespace iclr
