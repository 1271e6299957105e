// A loaded Benchmark's shapes, types and label ranges, checked once per decode (benchmark_check.hpp).
#include "exec/worker/benchmark_check.hpp"

#include <cmath>

#include <torch/torch.h>

namespace iclr::worker {

std::string shape_text(c10::IntArrayRef s) {
    std::string t = "[";
    for (size_t i = 0; i < s.size(); ++i)
        t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "]";
}

namespace {

// The split's problem, "" when none. Its examples' shape is not held to input_shape: a task may
// differ by design (glimpse_evidence's single-glimpse task is [1, 196] beside [9, 196]), and a model
// that cannot take it is named with the task when it fails (worker_main.cpp).
std::string split_problem(const Split& s, const Benchmark& b) {
    if (!s.x.defined() && !s.y.defined()) return "";
    if (!s.x.defined() || !s.y.defined()) return s.x.defined() ? "images but no labels" : "labels but no images";
    if (!s.x.is_floating_point())
        return "images are " + std::string(c10::toString(s.x.scalar_type())) + ", not floating point";
    if (s.y.scalar_type() != torch::kInt64)
        return "labels are " + std::string(c10::toString(s.y.scalar_type())) + ", not int64 (torch::kInt64)";
    if (s.y.dim() != 1) return "labels have shape " + shape_text(s.y.sizes()) + ", not [N]";
    if (s.x.dim() < 1 || s.x.size(0) != s.y.size(0))
        return std::to_string(s.x.dim() ? s.x.size(0) : 0) + " images but " + std::to_string(s.y.size(0)) + " labels";
    // One pass: a NaN or inf pixel makes the sum non-finite (finite pixels do not reach float's
    // 3e38; half's 65504 they do, so it sums as float). Without this the first method to train on
    // it ends `diverged`, blamed on itself.
    bool wide = s.x.scalar_type() == torch::kFloat32 || s.x.scalar_type() == torch::kFloat64;
    if (s.x.numel() > 0 && !std::isfinite((wide ? s.x.sum() : s.x.sum(torch::kFloat32)).item<double>())) {
        auto bad = s.x.reshape({s.x.size(0), -1}).isfinite().logical_not();
        return "images hold " + std::to_string(bad.sum().item<int64_t>()) +
               " non-finite value(s) (NaN or inf), the first in example " +
               std::to_string(bad.any(1).nonzero()[0][0].item<int64_t>());
    }
    if (s.y.numel() > 0) {
        int64_t lo = s.y.min().item<int64_t>(), hi = s.y.max().item<int64_t>();
        if (lo < 0 || hi >= b.num_classes)
            return "labels run from " + std::to_string(lo) + " to " + std::to_string(hi) + ", num_classes is " +
                   std::to_string(b.num_classes);
    }
    for (const auto& [name, f] : s.factors)
        if (f.dim() != 1 || f.size(0) != s.y.size(0))
            return "factor '" + name + "' has shape " + shape_text(f.sizes()) + " for " + std::to_string(s.y.size(0)) +
                   " examples";
    return "";
}

// A shifted test set is a task's test examples moved off their distribution, so its examples have
// the shape some task's test examples have (cluttered_mnist 0.1.0 shifted the bare 28 x 28 digits
// beside 40 x 40 canvases: every trial failed inside ood_accuracy).
std::string shifted_shape_problem(const Split& s, const Benchmark& b) {
    if (!s.x.defined() || s.x.dim() < 1) return "";
    auto shape = s.x.sizes().slice(1);
    std::string seen;
    for (const Task& t : b.tasks) {
        if (!t.test.x.defined() || t.test.x.dim() < 1) continue;
        if (t.test.x.sizes().slice(1) == shape) return "";
        std::string one = shape_text(t.test.x.sizes().slice(1));
        if (seen.find(one) == std::string::npos) seen += (seen.empty() ? "" : ", ") + one;
    }
    if (seen.empty()) return ""; // no task test set to compare with (an episodic benchmark)
    return "examples of shape " + shape_text(shape) + ", which no task's test examples have (" + seen + ")";
}

} // namespace

std::string benchmark_problem(const Benchmark& b) {
    if (b.tasks.empty() && !b.episodes) return "no tasks and no episode sampler";
    for (size_t t = 0; t < b.tasks.size(); ++t) {
        const Task& task = b.tasks[t];
        std::string where = "task " + std::to_string(t) + " '" + task.name + "' ";
        for (int64_t c : task.classes)
            if (c < 0 || c >= b.num_classes)
                return where + "names class " + std::to_string(c) + ", num_classes is " + std::to_string(b.num_classes);
        for (const auto& [split, s] :
             {std::pair<const char*, const Split*>{"train", &task.train}, {"test", &task.test}})
            if (auto p = split_problem(*s, b); !p.empty()) return where + split + ": " + p;
    }
    for (const auto& [name, s] : b.shifted_tests) {
        if (auto p = split_problem(s, b); !p.empty()) return "shifted test set '" + name + "': " + p;
        if (auto p = shifted_shape_problem(s, b); !p.empty()) return "shifted test set '" + name + "': " + p;
    }
    return "";
}

} // namespace iclr::worker
