// Exclude rules: matching a trial's axis values against `exclude = [{ ... }]` conditions.
#pragma once

#include <string>

#include "iclr/params.hpp"

namespace iclr {

// The comparison operators of exclude rules and of a claim's where: eq ne lt le gt ge in.
bool is_comparison_op(const std::string& op);

// op is one of eq ne lt le gt ge in. Numbers compare by value (1 eq 1.0); lt/le/gt/ge hold only
// between numbers; `in` takes a list.
bool exclude_matches(const Value& a, const std::string& op, const Value& b);

} // namespace iclr
