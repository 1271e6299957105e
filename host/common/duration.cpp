// Durations for progress lines, summaries and timeout messages, and as users write them.
#include "common/duration.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace iclr {

std::string format_duration(double s) {
    char buf[32];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%.1fs", s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else
        std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
    return buf;
}

std::optional<double> parse_duration(std::string_view text) {
    if (text.size() < 2) return std::nullopt;
    const char unit = text.back();
    const double mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
    const std::string number(text.substr(0, text.size() - 1));
    try {
        size_t used = 0;
        const double x = std::stod(number, &used);
        if (mult > 0 && used == number.size() && x >= 0 && std::isfinite(x)) return x * mult;
    } catch (const std::exception&) { // not a number
    }
    return std::nullopt;
}

} // namespace iclr
