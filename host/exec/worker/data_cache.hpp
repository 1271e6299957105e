// The data cache: a data set decoded once per node and mapped, shared, by every worker that loads it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "iclr/dataset.hpp"

namespace iclr::worker {

// Why a benchmark cannot go to a file ("" when it can): an episode sampler is code, not data, and
// tensors off the CPU would have to come back first.
std::string uncacheable(const Benchmark& b);

// Bytes of tensor data in b (what a cache file holds, and what a worker would hold privately).
int64_t tensor_bytes(const Benchmark& b);

// Writes b to `file` through a temporary file, synced and renamed (readers see a whole file or
// none, also after a crash). Throws std::runtime_error naming the file on any failure (a full
// disk), leaving nothing behind. b must be cacheable.
void write_benchmark(const Benchmark& b, const std::filesystem::path& file);

// The benchmark in `file` with its tensors mapped from the file: pages come from the page cache,
// one copy for every worker on the node, and count against no worker's private memory. Mapped
// copy-on-write, so a plugin that writes into a tensor gets a private page and the file stays as
// it was. nullptr when the file is missing or not a whole benchmark file (then it is rebuilt).
std::shared_ptr<Benchmark> map_benchmark(const std::filesystem::path& file);

// Smaller data sets are not cached: decoding them costs less than a file per configuration.
constexpr int64_t kMinCachedBytes = 1 << 20;

struct CachedLoad {
    std::shared_ptr<Benchmark> benchmark;
    std::string note; // for the log: "mapped from the data cache (KEY)", "decoded; ...", "not cached: ..."
    enum class Use { Mapped, Written, NotCached } use = Use::NotCached; // Written: the cache grew
};

// The benchmark under `key` in dir: mapped when a worker decoded it before, else load()ed into
// the file that becomes the cache file (its large tensors are that file's pages from the start:
// never this worker's private memory), completed, renamed into place and mapped. A file lock makes
// a concurrent worker with the same key wait and then map; the lock's holder removes temporary
// files that killed writers left. When the file cannot be written (a full disk), the loaded
// benchmark is used as it is and the note says why; the trial goes on.
CachedLoad load_cached(const std::filesystem::path& dir, const std::string& key,
                       const std::function<Benchmark()>& load);

} // namespace iclr::worker
