// Size-capped whole-file read.
#include "common/text_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace iclr {

std::optional<std::string> read_text_file(const std::string& path, size_t max_bytes) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    if (std::filesystem::file_size(path, ec) > max_bytes || ec) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace iclr
