// Did-you-mean for a name a user typed: the nearest known name within two edits, or the names there are.
#pragma once

#include <string>
#include <vector>

namespace iclr {

// " (did you mean 'mnist'?)" for a name one or two edits from one of `known` (the nearest; one edit
// for a name of up to four letters), else "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& known);
// did_you_mean's suggestion, or with none near, every known name after `what`:
// " (its parameters: lr, epochs)" (" (its parameters: none)" when there are none).
std::string did_you_mean_or_all(const std::string& name, const std::vector<std::string>& known,
                                const std::string& what);
// "lr, epochs, batch_size": names as a message lists them ("none" for none).
std::string names_list(const std::vector<std::string>& names);

} // namespace iclr
