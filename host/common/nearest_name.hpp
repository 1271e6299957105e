// Did-you-mean for a name a user typed: the nearest known name within two edits.
#pragma once

#include <string>
#include <vector>

namespace iclr {

// " (did you mean 'mnist'?)" for a name one or two edits from one of `known` (the nearest; one edit
// for a name of up to four letters), else "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& known);

} // namespace iclr
