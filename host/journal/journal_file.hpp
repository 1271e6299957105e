// Append-only journal files: framed, checksummed records, so a write torn by a kill is detected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iclr::journal {

// One frame: the magic "IJR1", the payload's length and its CRC-32 (both 4-byte little endian),
// then the payload. A reader stops at the first frame that does not check out: a kill mid-write
// leaves a short or garbled tail, never a record that reads as something it is not.
constexpr std::string_view kMagic = "IJR1";
constexpr uint32_t kMaxRecord = 64u << 20; // a longer length field is a torn or foreign frame

uint32_t crc32(std::string_view bytes);
std::string frame(std::string_view payload);

// Appends frames to one file that only this writer writes (O_APPEND: one write() per batch).
// Records wait in memory until flush(); sync() also makes them durable (fdatasync), which the
// caller does at the end of each trial, so a finished trial survives the node going down.
class Writer {
  public:
    explicit Writer(const std::string& path); // creates the file; throws HostError
    ~Writer();
    Writer(Writer&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)), buffer_(std::move(o.buffer_)) { o.fd_ = -1; }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    void append(std::string_view payload) { buffer_ += frame(payload); }
    void flush(); // throws HostError (full disk, ...)
    void sync();
    const std::string& path() const { return path_; }

  private:
    int fd_ = -1;
    std::string path_, buffer_;
};

struct ReadResult {
    std::vector<std::string> records; // payloads of the good frames, in order
    std::vector<uint64_t> offsets;    // byte offset of each record's frame
    uint64_t good_bytes = 0, file_bytes = 0;
    std::string problem; // "" when the whole file read; else what stopped the reader, and where
};
// Every good record up to the first frame that does not check out. Throws HostError only when the
// file cannot be read at all.
ReadResult read_file(const std::string& path);

} // namespace iclr::journal
