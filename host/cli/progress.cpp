// Progress line rendering and ETA (from expected trial costs, eta.hpp, or per finished trial).
#include "cli/progress.hpp"

#include <cstdio>
#include <utility>

#include "common/duration.hpp"

namespace iclr {

Progress::Progress(int64_t total, bool tty, std::unordered_map<int64_t, float> cost_by_run)
    : total_(total), tty_(tty), start_(std::chrono::steady_clock::now()) {
    if (!cost_by_run.empty()) cost_eta_.emplace(std::vector{std::move(cost_by_run)});
}

Progress::Progress(int64_t total, bool tty, std::vector<std::unordered_map<int64_t, float>> cost_by_run_by_sweep)
    : total_(total), tty_(tty), start_(std::chrono::steady_clock::now()) {
    if (!cost_by_run_by_sweep.empty()) cost_eta_.emplace(std::move(cost_by_run_by_sweep));
}

void Progress::started(int64_t run) {
    ++running_;
    if (cost_eta_) cost_eta_->started(run, elapsed());
}

void Progress::stopped(int64_t run) {
    if (running_ > 0) --running_;
    if (cost_eta_) cost_eta_->stopped(run);
}

double Progress::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

// From the expected costs when known (eta.hpp), else wall time so far per finished trial times the
// trials left ("?" before the first finishes).
std::string Progress::eta() const {
    if (cost_eta_)
        if (auto left = cost_eta_->left(elapsed())) return format_duration(*left);
    int64_t finished = ended_.ended();
    return finished > 0 ? format_duration(elapsed() / double(finished) * double(total_ - finished)) : "?";
}

std::string Progress::line() const {
    double elapsed = this->elapsed();
    int64_t finished = ended_.ended();
    std::string eta = this->eta();
    char buf[256];
    std::snprintf(buf, sizeof buf, "[%lld/%lld] done %lld  running %lld  failed %lld  elapsed %s  ETA %s",
                  (long long)finished, (long long)total_, (long long)ended_.done, (long long)running_,
                  (long long)ended_.failed, format_duration(elapsed).c_str(), eta.c_str());
    std::string s = buf;
    if (ended_.diverged > 0) s.insert(s.find("  elapsed"), "  diverged " + std::to_string(ended_.diverged));
    return s;
}

void Progress::clear_line() {
    if (tty_) std::fputs("\r\033[K", stdout);
}

void Progress::finished(int64_t run, RunStatus status, double seconds, const std::string& label,
                        const std::string& error) {
    if (running_ > 0) --running_;
    if (cost_eta_) cost_eta_->finished(run, seconds);
    ended_.count(status);
    int64_t finished = ended_.ended();
    clear_line();
    if (status != RunStatus::Done) {
        std::printf("run %lld %s after %s: %s  (%s)\n", (long long)run, to_string(status),
                    format_duration(seconds).c_str(), error.c_str(), label.c_str());
    } else if (!tty_) {
        // A log (a batch job's, a CI's) has no live line: each line says what is left.
        std::string left = finished < total_ ? "  ETA " + eta() : "";
        std::printf("[%lld/%lld] run %lld done in %s%s  %s\n", (long long)finished, (long long)total_, (long long)run,
                    format_duration(seconds).c_str(), left.c_str(), label.c_str());
    }
    if (tty_) {
        std::fputs(line().c_str(), stdout);
        last_draw_ = std::chrono::steady_clock::now();
    }
    std::fflush(stdout);
}

void Progress::tick() {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    clear_line();
    std::fputs(line().c_str(), stdout);
    std::fflush(stdout);
}

} // namespace iclr
