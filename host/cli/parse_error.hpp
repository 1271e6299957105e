// One line for a command line CLI11 refused, and the checks of option values whose messages say
// what was wanted (cli/parse_error.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
class ParseError;
class Validator;
} // namespace CLI

namespace iclr {

// Prints the error as "iclr: error: ..." (an unknown option with the nearest the command has, an
// unknown command with the nearest command) and returns the exit status: 2, or 0 for --help and
// --version, which CLI11 raises as errors too. `iclr` alone prints the help (exit 2).
int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv);

// "--threads: 'x' is not a whole number from 1 to 256" (CLI11's Range says "Value x not in range 1
// to 256", its NonNegativeNumber prints DBL_MAX as the upper end); `word` is taken too ("auto").
CLI::Validator whole_number(int64_t lo, int64_t hi, const std::string& word = "");
// "--tolerance: '-1' is not a number of 0 or more".
CLI::Validator non_negative();
// "action: 'prun' is not one of list, prune, limit (did you mean 'prune'?)".
CLI::Validator one_of(const std::vector<std::string>& names);

} // namespace iclr
