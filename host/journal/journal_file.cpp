// Journal framing: CRC-32 (the zlib polynomial), one write() per flush, read up to the first bad frame.
#include "journal/journal_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"

namespace iclr::journal {
namespace {

const std::array<uint32_t, 256>& crc_table() {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t n = 0; n < 256; ++n) {
            uint32_t c = n;
            for (int k = 0; k < 8; ++k)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    return table;
}

void put_u32(std::string& out, uint32_t v) {
    for (int k = 0; k < 4; ++k)
        out.push_back(char((v >> (8 * k)) & 0xFF));
}

uint32_t get_u32(const std::string& s, size_t at) {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k)
        v |= uint32_t(uint8_t(s[at + size_t(k)])) << (8 * k);
    return v;
}

} // namespace

uint32_t crc32(std::string_view bytes) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : bytes)
        c = crc_table()[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::string frame(std::string_view payload) {
    std::string out(kMagic);
    put_u32(out, uint32_t(payload.size()));
    put_u32(out, crc32(payload));
    out += payload;
    return out;
}

Writer::Writer(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw HostError("cannot open journal " + path + ": " + std::strerror(errno));
}

Writer::~Writer() {
    if (fd_ < 0) return; // moved from
    try {
        flush();
    } catch (...) {
    }
    if (fd_ >= 0) ::close(fd_);
}

void Writer::flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            buffer_.erase(0, done);
            throw HostError("cannot write journal " + path_ + ": " + std::strerror(errno));
        }
        done += size_t(n);
    }
    buffer_.clear();
}

void Writer::sync() {
    flush();
    if (::fdatasync(fd_) != 0) throw HostError("cannot sync journal " + path_ + ": " + std::strerror(errno));
}

ReadResult read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw HostError("cannot read journal " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string data = ss.str();
    ReadResult r;
    r.file_bytes = data.size();
    size_t at = 0;
    while (at < data.size()) {
        if (data.size() - at < 12) {
            r.problem = "record at byte " + std::to_string(at) + " is cut short";
            break;
        }
        if (data.compare(at, 4, kMagic) != 0) {
            r.problem = "no record frame at byte " + std::to_string(at);
            break;
        }
        uint32_t len = get_u32(data, at + 4), crc = get_u32(data, at + 8);
        if (len > kMaxRecord || data.size() - at - 12 < len) {
            r.problem = "record at byte " + std::to_string(at) + " is cut short";
            break;
        }
        std::string payload = data.substr(at + 12, len);
        if (crc32(payload) != crc) {
            r.problem = "record at byte " + std::to_string(at) + " fails its checksum";
            break;
        }
        r.records.push_back(std::move(payload));
        r.offsets.push_back(at);
        at += 12 + len;
    }
    r.good_bytes = at;
    return r;
}

} // namespace iclr::journal
