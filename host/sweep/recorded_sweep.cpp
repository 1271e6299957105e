// A sweep as the store recorded it (sweeps.source), read back: its own text, its includes and --set overrides.
#include <algorithm>
#include <map>
#include <string_view>

#include "sweep/sweep.hpp"

namespace iclr {
namespace {

constexpr std::string_view kIncludeOpen = "\n# ---- include ", kSetOpen = "\n# ---- --set ", kMarkerClose = " ----\n";

// Where the next appended part begins (a comment of the user's own, "# ---- models ----", is not one).
size_t next_marker(const std::string& text, size_t from) {
    return std::min(text.find(kIncludeOpen, from), text.find(kSetOpen, from));
}

} // namespace

SweepSpec recorded_sweep(const std::string& file, const std::string& profile, const std::string& source_text) {
    // load_document appended each include as "# ---- include PATH ----" and its text, apply_variant
    // each override after a "# ---- --set ..." line: the file's own text is what precedes the first.
    std::string own = source_text.substr(0, next_marker(source_text, 0));
    std::map<std::string, std::string> includes;
    for (size_t at = source_text.find(kIncludeOpen); at != std::string::npos;) {
        size_t name_end = source_text.find(kMarkerClose, at);
        if (name_end == std::string::npos) break;
        size_t text_at = name_end + kMarkerClose.size();
        size_t next = next_marker(source_text, text_at);
        includes[source_text.substr(at + kIncludeOpen.size(), name_end - at - kIncludeOpen.size())] =
            source_text.substr(text_at, next == std::string::npos ? std::string::npos : next - text_at);
        at = next == std::string::npos ? next : source_text.find(kIncludeOpen, next);
    }
    FileReader read = [includes](const std::string& path) -> std::optional<std::string> {
        auto it = includes.find(path);
        if (it == includes.end()) return std::nullopt;
        return it->second;
    };
    return parse_arms_text(own, file, recorded_variant(profile, source_text), read).front();
}

} // namespace iclr
