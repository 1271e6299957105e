// Large CPU allocations carved from the data cache's file while a data set is decoded.
#include "exec/worker/decode_arena.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include <c10/core/CPUAllocator.h>
#include <torch/version.h>

namespace iclr::worker {

namespace {

int64_t page_size() {
    static const int64_t p = sysconf(_SC_PAGESIZE);
    return p;
}

} // namespace

struct DecodeArena::State {
    int fd = -1;
    std::mutex m;
    int64_t next = page_size(); // the next region's offset: regions never reuse a range
    bool sealed = false;
    ~State() {
        if (fd >= 0) close(fd);
    }
};

namespace {

using State = DecodeArena::State;

struct Region {
    std::shared_ptr<State> state; // the file outlives the arena while a region is alive
    size_t len = 0;
    int64_t offset = 0;
};

// Every live region by its address: the pointer is its own context, so libtorch's raw_allocate
// (which needs data == context) works on regions as on any CPU allocation.
std::mutex registry_mutex;
std::map<const void*, Region>& registry() {
    static auto* r = new std::map<const void*, Region>(); // never destroyed: storages may die at exit
    return *r;
}

void punch(const State& s, int64_t offset, int64_t len) {
    // A temporary's disk blocks go back; a failure only leaves them in the (temporary) file.
    (void)fallocate(s.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
}

void* carve(const std::shared_ptr<State>& s, size_t n) {
    int64_t len = (int64_t(n) + page_size() - 1) / page_size() * page_size(), offset = 0;
    {
        std::lock_guard<std::mutex> g(s->m);
        offset = s->next;
        s->next += len;
    }
    // Blocks reserved before the pages are touched: with a full disk this fails here, cleanly,
    // instead of a SIGBUS when a decoder first writes to a page the file cannot hold.
    void* p = posix_fallocate(s->fd, offset, len) == 0
                  ? mmap(nullptr, size_t(len), PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, offset)
                  : MAP_FAILED;
    if (p == MAP_FAILED) {
        punch(*s, offset, len);
        return nullptr;
    }
    std::lock_guard<std::mutex> g(registry_mutex);
    registry()[p] = Region{s, size_t(len), offset};
    return p;
}

// libtorch 2.3 made Allocator::allocate non-const and added copy_data; Debian's 1.13 has neither,
// and a CUDA-enabled LibTorch today is a 2.x one.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define ICLR_TORCH_2_3 1
#define ICLR_ALLOCATE_CONST
#else
#define ICLR_TORCH_2_3 0
#define ICLR_ALLOCATE_CONST const
#endif

// libtorch keeps a raw pointer to the allocator in every storage it made (resize_ calls it), so
// the allocator lives as long as the process; a scope only points it at an arena.
class ArenaAllocator final : public c10::Allocator {
  public:
    c10::DataPtr allocate(size_t n) ICLR_ALLOCATE_CONST override {
        std::shared_ptr<State> s;
        {
            std::lock_guard<std::mutex> g(m_);
            s = active_;
        }
        if (s && int64_t(n) >= DecodeArena::kMinBytes)
            if (void* p = carve(s, n)) return {p, p, &release, c10::Device(c10::kCPU)};
        return previous_->allocate(n);
    }
    c10::DeleterFnPtr raw_deleter() const override { return &release; }
#if ICLR_TORCH_2_3
    void copy_data(void* dest, const void* src, size_t count) const override { default_copy_data(dest, src, count); }
#endif

    void install(std::shared_ptr<State> s) {
        std::lock_guard<std::mutex> g(m_);
        if (active_) throw std::logic_error("data cache: a decode arena is already in use");
        if (c10::GetCPUAllocator() != this) previous_ = c10::GetCPUAllocator();
        active_ = std::move(s);
        c10::SetCPUAllocator(this, kPriority);
    }
    void uninstall() {
        std::lock_guard<std::mutex> g(m_);
        active_.reset();
        c10::SetCPUAllocator(previous_, kPriority);
    }

    static ArenaAllocator& get() {
        static auto* a = new ArenaAllocator(); // never destroyed (see the class comment)
        return *a;
    }

  private:
    static constexpr uint8_t kPriority = 255; // over any allocator registered at start-up

    // A region's pages go back to the page cache (and, before seal(), its blocks to the disk);
    // anything else was the previous allocator's.
    static void release(void* p) {
        Region r;
        {
            std::lock_guard<std::mutex> g(registry_mutex);
            auto it = registry().find(p);
            if (it == registry().end()) {
                get().previous_->raw_deleter()(p);
                return;
            }
            r = std::move(it->second);
            registry().erase(it);
        }
        munmap(p, r.len);
        std::lock_guard<std::mutex> g(r.state->m);
        if (!r.state->sealed) punch(*r.state, r.offset, int64_t(r.len));
    }

    mutable std::mutex m_;
    std::shared_ptr<State> active_;
    c10::Allocator* previous_ = c10::GetCPUAllocator();
};

// The kernel can fail a MAP_FIXED mmap only for want of memory for its bookkeeping, but it may
// have dropped the old mapping by then: a range still mapped stays shared (as before seal() remapped,
// said in the trial's log); a range gone would leave a tensor pointing at nothing, so the worker
// stops with the reason and the trial is recorded as crashed rather than reading unmapped memory.
void make_private(int fd, void* p, size_t len, int64_t offset) {
    if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, offset) != MAP_FAILED) return;
    const int err = errno;
    const bool still_mapped = msync(p, len, MS_ASYNC) == 0; // ENOMEM: part of the range is unmapped
    std::fprintf(stderr, "data cache: decoded data at %p could not be made copy-on-write (%s)%s\n", p,
                 std::strerror(err), still_mapped ? "; it stays shared with the cache file" : "; the worker stops");
    if (!still_mapped) std::abort();
}

} // namespace

DecodeArena::DecodeArena(const std::filesystem::path& file) : state_(std::make_shared<State>()) {
    state_->fd = open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (state_->fd < 0) throw std::runtime_error("data cache: creating " + file.string() + ": " + std::strerror(errno));
}

DecodeArena::~DecodeArena() = default;

DecodeArena::Scope::Scope(DecodeArena& arena) { ArenaAllocator::get().install(arena.state_); }
DecodeArena::Scope::~Scope() { ArenaAllocator::get().uninstall(); }

std::optional<int64_t> DecodeArena::offset_of(const torch::Tensor& t) const {
    if (!t.defined() || !t.is_contiguous() || !t.has_storage() || t.numel() == 0) return std::nullopt;
    const void* base = t.storage().data();
    std::lock_guard<std::mutex> g(registry_mutex);
    auto it = registry().find(base);
    if (it == registry().end() || it->second.state != state_) return std::nullopt;
    int64_t into = static_cast<const char*>(t.data_ptr()) - static_cast<const char*>(base);
    if (into < 0 || into + int64_t(t.nbytes()) > int64_t(it->second.len)) return std::nullopt;
    return it->second.offset + into;
}

int64_t DecodeArena::end() const {
    std::lock_guard<std::mutex> g(state_->m);
    return state_->next;
}

int DecodeArena::fd() const { return state_->fd; }

void DecodeArena::seal() {
    {
        std::lock_guard<std::mutex> g(state_->m);
        state_->sealed = true;
    }
    // Each live region becomes a private copy-on-write mapping of the same bytes at the same address
    // (MAP_FIXED over the shared mapping), as every worker that maps the cache file
    // later has it: a tensor that outlived the decode (a plugin's static, say) and is written to
    // changes this worker's copy, never the file the node's other workers read.
    std::lock_guard<std::mutex> g(registry_mutex);
    for (const auto& [p, r] : registry())
        if (r.state == state_) make_private(state_->fd, const_cast<void*>(p), r.len, r.offset);
}

} // namespace iclr::worker
