// ContentKey: the one way to build a content key (cache entries), with every value written exactly.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "iclr/sha256.hpp"

namespace iclr {

// A key from everything a cached result depends on. Each part is written as "name=value" with
// a separator, and floats in their shortest round-trip form (std::to_chars), the way trial keys
// are: std::to_string(double) keeps six decimals, so learning rates 2e-7 and 4e-7 would share a
// key. Names make the key readable in tests and keep ("ab","c") apart from ("a","bc").
//
//   std::string key = iclr::ContentKey("finetune/supervised-pretraining/v1")
//                         .add("model", s.config_text("model")).add("lr", lr).add("seed", ctx.seed()).hex();
class ContentKey {
  public:
    explicit ContentKey(std::string_view purpose) { part("purpose", purpose); }

    ContentKey& add(std::string_view name, std::string_view text) { return part(name, text); }
    ContentKey& add(std::string_view name, const char* text) { return part(name, text); }
    ContentKey& add(std::string_view name, const std::string& text) { return part(name, text); }
    ContentKey& add(std::string_view name, bool v) { return part(name, v ? "true" : "false"); }
    ContentKey& add(std::string_view name, double v) { return part(name, format(v)); }
    template <class Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
    ContentKey& add(std::string_view name, Int v) {
        return part(name, std::to_string(v));
    }

    // The text that is hashed (for messages and tests).
    const std::string& text() const { return text_; }
    // 32 hex digits (128 bits) of the SHA-256 of text(), like trial keys.
    std::string hex() const {
        Sha256 h;
        h.update(text_);
        return h.hex().substr(0, 32);
    }

    // Shortest text that reads back to exactly v ("0.1", "2e-07", "nan", "inf").
    static std::string format(double v) {
        if (std::isnan(v)) return "nan";
        if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof buf, v);
        return std::string(buf, res.ptr);
    }

  private:
    ContentKey& part(std::string_view name, std::string_view value) {
        text_.append(name).append("=").append(value).append("\x1f"); // unit separator
        return *this;
    }
    std::string text_;
};

} // namespace iclr
