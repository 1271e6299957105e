// Decoding straight into the data cache's file: large CPU tensors allocated while a data set is
// decoded are pages of that file, so the decoded set is never in the worker's private memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include <torch/types.h>

namespace iclr::worker {

// A file that large tensor allocations are carved from (MAP_SHARED, page-aligned regions, disk
// blocks reserved first so a full disk is an allocation that falls back to memory, never a
// SIGBUS). Regions freed before seal() are punched out of the file (a decoder's temporaries take
// no disk); after seal() the file is the cache file: freed regions keep their bytes, live ones are
// copy-on-write.
class DecodeArena {
  public:
    // Allocations of at least this many bytes go to the file; smaller ones stay in memory. Regions
    // start at the second page (mmap offsets are whole pages): the first is the cache file's header.
    static constexpr int64_t kMinBytes = 1 << 20;

    // Creates (truncates) `file`. Throws std::runtime_error naming it when it cannot.
    explicit DecodeArena(const std::filesystem::path& file);
    ~DecodeArena();
    DecodeArena(const DecodeArena&) = delete;
    DecodeArena& operator=(const DecodeArena&) = delete;

    // While a Scope lives, libtorch's CPU allocations of kMinBytes or more come from this arena
    // (one arena at a time per process; the previous allocator is back when the scope ends, also
    // on an exception).
    class Scope {
      public:
        explicit Scope(DecodeArena& arena);
        ~Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;
    };

    // Where t's bytes are in the file, when t is a contiguous tensor whose storage this arena
    // allocated; nullopt otherwise (its bytes must be written).
    std::optional<int64_t> offset_of(const torch::Tensor& t) const;
    // The first offset no region has used: bytes written after it overwrite nothing.
    int64_t end() const;
    // The file's descriptor, for writing what the regions do not hold.
    int fd() const;
    // From now on freed regions keep their bytes in the file, and live regions are private
    // copy-on-write mappings of it: writing to a decoded tensor no longer reaches the file.
    void seal();

    struct State;

  private:
    std::shared_ptr<State> state_;
};

} // namespace iclr::worker
