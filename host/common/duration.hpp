// Durations as people read them: "4.2s", "3m07s", "1h05m".
#pragma once

#include <string>

namespace iclr {

std::string format_duration(double seconds);

} // namespace iclr
