// What the commands that take several sweep files (verify, report) say of the sweeps they skip.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace iclr {

// "2 sweep(s) passed over, REASON: a.toml, b.toml", a line per reason, for stderr: a glob over every
// sweep file names the sweeps it did not cover without burying the few it did.
std::vector<std::string> passed_over(const std::map<std::string, std::vector<std::string>>& sweeps_by_reason);

} // namespace iclr
