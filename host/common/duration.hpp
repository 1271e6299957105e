// Durations as people read and write them: "4.2s", "3m07s", "1h05m"; "90s", "10m", "2h", "30d".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iclr {

std::string format_duration(double seconds);
// "90s", "10m", "2h", "30d" (a number, then one unit) in seconds; nullopt for anything else.
std::optional<double> parse_duration(std::string_view text);

} // namespace iclr
