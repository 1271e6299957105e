// What the metrics of one event share (RunContext::shared_value): each key computed once while the
// event is open, nothing kept once it closes (the model changes between events).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace iclr::worker {

class SharedValues {
  public:
    void open() {
        values_.clear();
        open_ = true;
    }
    void close() {
        values_.clear();
        open_ = false;
    }
    // Open: the value stored under key, computed on first use. Closed: computed every time.
    double get(std::string_view key, const std::function<double()>& compute) {
        if (!open_) return compute();
        if (auto it = values_.find(key); it != values_.end()) return it->second;
        double v = compute();
        values_.emplace(std::string(key), v);
        return v;
    }

  private:
    // A flag and a map, not std::optional<map>: GCC 12 warns (-Wmaybe-uninitialized, wrongly) on
    // the optional's destructor in every build.
    bool open_ = false;
    std::map<std::string, double, std::less<>> values_;
};

} // namespace iclr::worker
