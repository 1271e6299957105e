// A number read from a whole text (a protocol or journal field, a command-line value, a stored
// column): nullopt for "" or for anything after the number.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace iclr {

// T is an integer type or double (from_chars: "1e3", "nan" and "inf" read as doubles; no '+').
template <class T> std::optional<T> number_of(std::string_view text) {
    T v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

} // namespace iclr
