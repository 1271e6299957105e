// What the metrics of one event share (RunContext::shared_value): each key computed once while the
// event is open, nothing kept once it closes (the model changes between events).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace iclr::worker {

class SharedValues {
  public:
    void open() { values_.emplace(); }
    void close() { values_.reset(); }
    // Open: the value stored under key, computed on first use. Closed: computed every time.
    double get(std::string_view key, const std::function<double()>& compute) {
        if (!values_) return compute();
        if (auto it = values_->find(key); it != values_->end()) return it->second;
        double v = compute();
        values_->emplace(std::string(key), v);
        return v;
    }

  private:
    std::optional<std::map<std::string, double, std::less<>>> values_;
};

} // namespace iclr::worker
