// SHA-256 for trial keys and file provenance hashes (FIPS 180-4), no external crypto dependency.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace iclr {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::string hex(); // finalises

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// Empty string when the file cannot be read.
std::string sha256_file(const std::filesystem::path& file);

} // namespace iclr
