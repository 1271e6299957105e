// What a data set plugin's load() returned, checked before any method sees it.
#pragma once

#include <string>

#include "iclr/dataset.hpp"

namespace iclr::worker {

// A tensor shape as its messages print it: "[32, 1, 28, 28]" (this check's and the worker's note
// on a task whose examples are not the shape the model was built for).
std::string shape_text(c10::IntArrayRef s);

// The first inconsistency in b, as one line ("task 1 'task1' train: 400 images but 399 labels"),
// or "" when there is none: every split's images are floating point and finite with as many rows
// as its labels, labels are int64 in [0, num_classes), each factor has a value per example, each
// task's classes are in range, a shifted test set's examples have some task's test shape, and there
// is a task or an episode sampler. A data set written outside the tree that gets one of these wrong
// fails its trials with this line instead of a torch error deep inside the method that met it.
std::string benchmark_problem(const Benchmark& b);

} // namespace iclr::worker
