// What the commands that take several sweep files share: one sweep's command run for each in turn,
// and what verify and report say of the sweeps they skip.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace iclr {

// `one` for each file in turn, a blank line between their outputs; a file whose command throws a
// UserError (its diagnostics at file:line:col) is printed as `iclr: error:` and the others go on.
// Returns the worst exit status (2 for an error); `failed`, when given, gets the files that threw.
int each_sweep(const std::vector<std::string>& files, const std::function<int(const std::string&)>& one,
               std::vector<std::string>* failed = nullptr);

// The files as given, each once: a later name of the same file (its real path; a glob and the
// same file named after it) is dropped with a note on stderr, so that it is neither run, verified
// nor reported twice.
void once_each(std::vector<std::string>& files);

// "2 sweep(s) passed over, REASON: a.toml, b.toml", a line per reason, for stderr: a glob over every
// sweep file names the sweeps it did not cover without burying the few it did.
std::vector<std::string> passed_over(const std::map<std::string, std::vector<std::string>>& sweeps_by_reason);

} // namespace iclr
