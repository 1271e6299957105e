// Keeps exceptions from crossing the C boundary: runs f, turns any exception into an error text.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>

namespace iclr {

inline void copy_error(char* err, uint32_t len, const char* what) {
    if (err && len) std::snprintf(err, len, "%s", what);
}

// Returns 0 when f returned normally, 1 (with the message in err) when it threw.
template <class F> int guarded(char* err, uint32_t len, F&& f) noexcept {
    try {
        f();
        return 0;
    } catch (const std::exception& e) {
        copy_error(err, len, e.what());
    } catch (...) {
        copy_error(err, len, "unknown exception");
    }
    return 1;
}

} // namespace iclr
