// The objects of a digit_canvases example as its factors name them (digit0, cell0, digit1, ...),
// read once here for every method that trains on them (sparse_detr, simvlm).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "iclr/sdk.hpp"

namespace canvas {

// How many digits each example holds: the digitK factors present (0 for other data sets).
inline int64_t count(const iclr::Split& s) {
    int64_t k = 0;
    while (s.factors.count("digit" + std::to_string(k)) && s.factors.count("cell" + std::to_string(k)))
        ++k;
    return k;
}

// Each example's digits [N, K] and cells [N, K], in reading order.
inline std::pair<torch::Tensor, torch::Tensor> objects(const iclr::Split& s, int64_t k) {
    std::vector<torch::Tensor> d, c;
    for (int64_t j = 0; j < k; ++j) {
        d.push_back(s.factors.at("digit" + std::to_string(j)));
        c.push_back(s.factors.at("cell" + std::to_string(j)));
    }
    return {torch::stack(d, 1), torch::stack(c, 1)};
}

} // namespace canvas
