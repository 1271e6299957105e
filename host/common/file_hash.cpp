// SHA-256 of a file, streamed (string hashing is the SDK's iclr::Sha256).
#include "common/file_hash.hpp"

#include <fstream>

namespace iclr {

std::string sha256_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return "";
    Sha256 s;
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof(buf));
        s.update(buf, size_t(in.gcount()));
    }
    return s.hex();
}

} // namespace iclr
