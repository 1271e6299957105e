// Whole-file reads with a size cap, for sweep files and their includes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace iclr {

// The file's bytes; nullopt when it is not a regular file, cannot be read or is over max_bytes.
std::optional<std::string> read_text_file(const std::string& path, size_t max_bytes);

} // namespace iclr
