// Continual-learning summaries of an accuracy matrix a[t][i] (no torch: unit-testable as is).
#pragma once

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace iclr::continual {

// a[t][i] = accuracy on task i after training task t; T + 1 = a.size() tasks, square.
using Matrix = std::vector<std::vector<double>>;

inline void check(const Matrix& a) {
    if (a.empty()) throw std::invalid_argument("empty accuracy matrix");
    for (const auto& row : a)
        if (row.size() != a.size()) throw std::invalid_argument("accuracy matrix must be square (tasks x tasks)");
}

// mean_i a[T][i]
inline double average_accuracy(const Matrix& a) {
    check(a);
    double s = 0;
    for (double v : a.back())
        s += v;
    return s / double(a.size());
}

// mean_{i<T} (max_{i<=t<T} a[t][i] - a[T][i]); 0 for a single task. Only rows after task i was
// learned count (as mammoth's and LUMP's code): a kNN or probe score of a task not yet trained
// on can be high, and an earlier peak there is not something the learner forgot.
inline double forgetting(const Matrix& a) {
    check(a);
    size_t T = a.size() - 1;
    if (T == 0) return 0.0;
    double s = 0;
    for (size_t i = 0; i < T; ++i) {
        double best = a[i][i];
        for (size_t t = i; t < T; ++t)
            best = std::max(best, a[t][i]);
        s += best - a[T][i];
    }
    return s / double(T);
}

// mean_{i<T} (a[T][i] - a[i][i]); 0 for a single task. Negative = forgetting.
inline double backward_transfer(const Matrix& a) {
    check(a);
    size_t T = a.size() - 1;
    if (T == 0) return 0.0;
    double s = 0;
    for (size_t i = 0; i < T; ++i)
        s += a[T][i] - a[i][i];
    return s / double(T);
}

} // namespace iclr::continual
