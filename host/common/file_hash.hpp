// SHA-256 of strings (from the SDK) and of files, for trial keys and plugin provenance.
#pragma once

#include <filesystem>
#include <string>

#include "iclr/sha256.hpp"

namespace iclr {

// Empty string when the file cannot be read.
std::string sha256_file(const std::filesystem::path& file);

} // namespace iclr
