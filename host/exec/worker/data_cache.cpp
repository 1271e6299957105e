// The data cache's file format (aligned tensor bytes, then a TOML manifest), its mapping, its lock.
#include "exec/worker/data_cache.hpp"

#include "exec/worker/decode_arena.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include <toml++/toml.h>

namespace iclr::worker {
namespace fs = std::filesystem;
namespace {

// "ICLRDAT2", the manifest's offset and length (8 bytes each, little-endian), the tensors at
// 64-byte aligned offsets, the manifest last: it is written once every tensor's place is known,
// and a set decoded into the file (decode_arena.hpp) has its tensors in place before that. The
// version is in the magic: a new layout is a new magic.
constexpr char kMagic[8] = {'I', 'C', 'L', 'R', 'D', 'A', 'T', '2'};
constexpr int64_t kHeaderBytes = 24;
constexpr int64_t kAlign = 64;

int64_t aligned(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// The dtypes data sets use, by a name that does not depend on libtorch's enum order.
const std::vector<std::pair<std::string, torch::ScalarType>>& dtypes() {
    static const std::vector<std::pair<std::string, torch::ScalarType>> d = {
        {"float32", torch::kFloat32},   {"float64", torch::kFloat64}, {"float16", torch::kFloat16},
        {"bfloat16", torch::kBFloat16}, {"int64", torch::kInt64},     {"int32", torch::kInt32},
        {"int16", torch::kInt16},       {"int8", torch::kInt8},       {"uint8", torch::kUInt8},
        {"bool", torch::kBool}};
    return d;
}
std::string dtype_name(torch::ScalarType t) {
    for (const auto& [n, s] : dtypes())
        if (s == t) return n;
    return "";
}

// Every tensor of b with where it goes: ("task.0.train", "x"), ("shifted.1", "factor:shape"), ...
struct Entry {
    std::string split, field;
    torch::Tensor t;
};
void add_split(std::vector<Entry>& out, const std::string& where, const Split& s) {
    if (s.x.defined()) out.push_back({where, "x", s.x});
    if (s.y.defined()) out.push_back({where, "y", s.y});
    for (const auto& [name, t] : s.factors)
        if (t.defined()) out.push_back({where, "factor:" + name, t});
}
std::vector<Entry> entries(const Benchmark& b) {
    std::vector<Entry> out;
    for (size_t i = 0; i < b.tasks.size(); ++i) {
        add_split(out, "task." + std::to_string(i) + ".train", b.tasks[i].train);
        add_split(out, "task." + std::to_string(i) + ".test", b.tasks[i].test);
    }
    size_t k = 0;
    for (const auto& [name, s] : b.shifted_tests)
        add_split(out, "shifted." + std::to_string(k++), s);
    return out;
}

toml::array int_array(const std::vector<int64_t>& v) {
    toml::array a;
    for (int64_t x : v)
        a.push_back(x);
    return a;
}
std::vector<int64_t> ints(const toml::node_view<const toml::node>& n) {
    std::vector<int64_t> v;
    if (const toml::array* a = n.as_array())
        for (const auto& x : *a)
            v.push_back(x.value_or(int64_t(0)));
    return v;
}

// The manifest, with each tensor's offset from the start of the file.
std::string manifest(const Benchmark& b, const std::vector<Entry>& es, const std::vector<int64_t>& offsets) {
    toml::table m{{"name", b.name}, {"num_classes", b.num_classes}, {"input_shape", int_array(b.input_shape)}};
    toml::array tasks, shifted, tensors;
    for (const auto& t : b.tasks)
        tasks.push_back(toml::table{{"name", t.name}, {"classes", int_array(t.classes)}});
    for (const auto& [name, s] : b.shifted_tests)
        shifted.push_back(toml::table{{"name", name}});
    for (size_t i = 0; i < es.size(); ++i)
        tensors.push_back(toml::table{{"split", es[i].split},
                                      {"field", es[i].field},
                                      {"dtype", dtype_name(es[i].t.scalar_type())},
                                      {"shape", int_array(es[i].t.sizes().vec())},
                                      {"offset", offsets[i]},
                                      {"bytes", int64_t(es[i].t.nbytes())}});
    m.insert("task", std::move(tasks));
    m.insert("shifted", std::move(shifted));
    m.insert("tensor", std::move(tensors));
    std::ostringstream os;
    os << m;
    return os.str();
}

// Writes all of buf at offset; throws with errno's text on failure.
void write_at(int fd, const void* buf, size_t n, int64_t offset, const fs::path& file) {
    const char* p = static_cast<const char*>(buf);
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, offset);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw std::runtime_error("data cache: writing " + file.string() + ": " + std::strerror(errno));
        p += w, n -= size_t(w), offset += w;
    }
}

// Writes the tensors the file does not hold yet after `end` (those `placed` has no offset for),
// then the manifest and the header, and syncs: the file is whole once this returns.
void fill_file(int fd, const fs::path& file, const Benchmark& b, int64_t end,
               const std::function<std::optional<int64_t>(const torch::Tensor&)>& placed) {
    std::vector<Entry> es = entries(b);
    std::vector<int64_t> offsets;
    for (const auto& e : es) {
        std::optional<int64_t> at = placed(e.t);
        if (!at) {
            torch::Tensor c = e.t.contiguous();
            at = aligned(end);
            write_at(fd, c.data_ptr(), c.nbytes(), *at, file);
            end = *at + int64_t(c.nbytes());
        }
        offsets.push_back(*at);
    }
    std::string text = manifest(b, es, offsets);
    int64_t at = aligned(end);
    write_at(fd, text.data(), text.size(), at, file);
    unsigned char header[kHeaderBytes];
    std::memcpy(header, kMagic, sizeof kMagic);
    for (int i = 0; i < 8; ++i) {
        header[8 + i] = (uint64_t(at) >> (8 * i)) & 0xff;
        header[16 + i] = (uint64_t(text.size()) >> (8 * i)) & 0xff;
    }
    write_at(fd, header, sizeof header, 0, file);
    if (ftruncate(fd, at + int64_t(text.size())) != 0 || fsync(fd) != 0)
        throw std::runtime_error("data cache: writing " + file.string() + ": " + std::strerror(errno));
}

uint64_t u64_at(const char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
}

// Temporary files of writers that died (killed mid-write): only a holder of the key's lock
// writes, and the caller holds it.
void remove_stale_temporaries(const fs::path& dir, const std::string& key) {
    std::error_code ec;
    std::string prefix = key + ".data.tmp.";
    for (const auto& f : fs::directory_iterator(dir, ec))
        if (f.path().filename().string().rfind(prefix, 0) == 0) fs::remove(f.path(), ec);
}

// Closes a file descriptor (-1: none) when it goes out of scope.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

// Removes a temporary file unless it was renamed into place.
struct Temporary {
    fs::path path;
    bool kept = false;
    ~Temporary() {
        std::error_code ec;
        if (!kept) fs::remove(path, ec);
    }
};

struct Mapping {
    void* addr = MAP_FAILED;
    size_t size = 0;
    ~Mapping() {
        if (addr != MAP_FAILED) munmap(addr, size);
    }
};

Split* split_at(Benchmark& b, std::vector<Split*>& shifted, const std::string& where) {
    auto dot = where.find('.');
    std::string kind = where.substr(0, dot), rest = dot == std::string::npos ? "" : where.substr(dot + 1);
    if (kind == "shifted") {
        size_t k = std::stoul(rest);
        return k < shifted.size() ? shifted[k] : nullptr;
    }
    if (kind != "task") return nullptr;
    auto dot2 = rest.find('.');
    size_t i = std::stoul(rest.substr(0, dot2));
    if (i >= b.tasks.size() || dot2 == std::string::npos) return nullptr;
    std::string part = rest.substr(dot2 + 1);
    return part == "train" ? &b.tasks[i].train : part == "test" ? &b.tasks[i].test : nullptr;
}

// The tensors of the manifest, placed in b as views of the mapping; false when an entry does not
// fit the file (a truncated or foreign file).
bool place_tensors(const toml::table& m, Benchmark& b, std::vector<Split*>& shifted,
                   const std::shared_ptr<Mapping>& map) {
    const toml::array* tensors = m["tensor"].as_array();
    if (!tensors) return false;
    for (const auto& n : *tensors) {
        const toml::table* t = n.as_table();
        if (!t) return false;
        std::string dtype = (*t)["dtype"].value_or(std::string()), field = (*t)["field"].value_or(std::string());
        int64_t offset = (*t)["offset"].value_or(int64_t(-1)), bytes = (*t)["bytes"].value_or(int64_t(-1));
        std::vector<int64_t> shape = ints((*t)["shape"]);
        auto type = std::find_if(dtypes().begin(), dtypes().end(), [&](const auto& d) { return d.first == dtype; });
        Split* s = split_at(b, shifted, (*t)["split"].value_or(std::string()));
        if (type == dtypes().end() || !s || offset < 0 || bytes < 0 || uint64_t(offset + bytes) > map->size)
            return false;
        int64_t numel = 1;
        for (int64_t d : shape)
            numel *= d;
        auto opts = torch::TensorOptions().dtype(type->second);
        if (numel * int64_t(torch::elementSize(type->second)) != bytes) return false;
        torch::Tensor x = torch::from_blob(
            static_cast<char*>(map->addr) + offset, shape, [map](void*) {}, opts);
        if (field == "x")
            s->x = x;
        else if (field == "y")
            s->y = x;
        else if (field.rfind("factor:", 0) == 0)
            s->factors[field.substr(7)] = x;
        else
            return false;
    }
    return true;
}

} // namespace

std::string uncacheable(const Benchmark& b) {
    if (b.episodes) return "it samples episodes (code, not data)";
    for (const auto& e : entries(b)) {
        if (!e.t.device().is_cpu()) return "its tensors are on " + e.t.device().str();
        if (dtype_name(e.t.scalar_type()).empty())
            return std::string("a tensor of type ") + c10::toString(e.t.scalar_type());
    }
    return "";
}

int64_t tensor_bytes(const Benchmark& b) {
    int64_t n = 0;
    for (const auto& e : entries(b))
        n += int64_t(e.t.numel()) * int64_t(e.t.element_size());
    return n;
}

void write_benchmark(const Benchmark& b, const fs::path& file) {
    Temporary tmp{fs::path(file) += ".tmp." + std::to_string(getpid())};
    {
        Fd out{open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
        if (out.fd < 0)
            throw std::runtime_error("data cache: creating " + tmp.path.string() + ": " + std::strerror(errno));
        fill_file(out.fd, tmp.path, b, kHeaderBytes, [](const torch::Tensor&) { return std::nullopt; });
    }
    fs::rename(tmp.path, file);
    tmp.kept = true;
}

std::shared_ptr<Benchmark> map_benchmark(const fs::path& file) {
    int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    auto map = std::make_shared<Mapping>();
    if (fstat(fd, &st) == 0 && st.st_size >= 16) {
        map->size = size_t(st.st_size);
        map->addr = mmap(nullptr, map->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    }
    // Each use moves the access time, which `iclr cache prune` orders by: the kernel's relatime
    // would move it at most once a day, noatime never. Only the owner may (a failure changes nothing).
    const timespec used[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    (void)futimens(fd, used);
    close(fd); // the mapping keeps the file
    if (map->addr == MAP_FAILED) return nullptr;
    const char* p = static_cast<const char*>(map->addr);
    if (map->size < uint64_t(kHeaderBytes) || std::memcmp(p, kMagic, sizeof kMagic) != 0) return nullptr;
    uint64_t at = u64_at(p + 8), len = u64_at(p + 16);
    if (at < uint64_t(kHeaderBytes) || at > map->size || len > map->size - at) return nullptr;
    auto parsed = toml::parse(std::string_view(p + at, len));
    if (!parsed) return nullptr;
    const toml::table& m = parsed.table();
    auto b = std::make_shared<Benchmark>();
    b->name = m["name"].value_or(std::string());
    b->num_classes = m["num_classes"].value_or(int64_t(0));
    b->input_shape = ints(m["input_shape"]);
    if (const toml::array* tasks = m["task"].as_array())
        for (const auto& n : *tasks) {
            toml::node_view<const toml::node> t(n); // a view: a key of a non-table reads as missing
            b->tasks.push_back(Task{t["name"].value_or(std::string()), ints(t["classes"]), {}, {}});
        }
    std::vector<Split*> shifted;
    if (const toml::array* names = m["shifted"].as_array())
        for (const auto& n : *names)
            shifted.push_back(&b->shifted_tests[toml::node_view<const toml::node>(n)["name"].value_or(std::string())]);
    try {
        if (!place_tensors(m, *b, shifted, map)) return nullptr;
    } catch (const std::exception&) { // a malformed split name (stoul)
        return nullptr;
    }
    return b;
}

namespace {

// A decoded set, and the file its large tensors are pages of (none when that file could not be
// made: then it was decoded in memory, and write_benchmark will say why).
struct Decoded {
    std::unique_ptr<DecodeArena> arena;
    std::shared_ptr<Benchmark> benchmark;
};

Decoded decode_into(const fs::path& tmp, const std::function<Benchmark()>& load) {
    Decoded d;
    try {
        d.arena = std::make_unique<DecodeArena>(tmp);
    } catch (const std::exception&) {
    }
    std::optional<DecodeArena::Scope> scope;
    if (d.arena) scope.emplace(*d.arena);
    d.benchmark = std::make_shared<Benchmark>(load());
    return d;
}

// The decoded set as the cache file `file`: the arena's file completed and renamed into place,
// or, without one, the set written. Throws std::runtime_error naming the file (a full disk).
void store(const Decoded& d, Temporary& tmp, const fs::path& file) {
    if (!d.arena) return write_benchmark(*d.benchmark, file);
    fill_file(d.arena->fd(), tmp.path, *d.benchmark, d.arena->end(),
              [&](const torch::Tensor& t) { return d.arena->offset_of(t); });
    d.arena->seal(); // the decoded tensors' pages are now the cache file's
    fs::rename(tmp.path, file);
    tmp.kept = true;
}

} // namespace

CachedLoad load_cached(const fs::path& dir, const std::string& key, const std::function<Benchmark()>& load) {
    fs::path file = dir / (key + ".data");
    std::error_code ec;
    fs::create_directories(dir, ec);
    Fd lock{open((file.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)}; // closing unlocks
    if (lock.fd >= 0) flock(lock.fd, LOCK_EX);
    if (auto b = map_benchmark(file)) return {b, "mapped from the data cache (" + key + ")", CachedLoad::Use::Mapped};
    if (lock.fd >= 0) remove_stale_temporaries(dir, key);
    malloc_trim(0); // what this worker freed goes back before it decodes
    // Decoded into the file that becomes the cache file: the set's large tensors are pages of that
    // file from the start, never this worker's private memory, and need no copy to be cached.
    Temporary tmp{fs::path(file) += ".tmp." + std::to_string(getpid())};
    Decoded d = decode_into(tmp.path, load);
    if (std::string why = uncacheable(*d.benchmark); !why.empty()) return {d.benchmark, "not cached: " + why};
    if (tensor_bytes(*d.benchmark) < kMinCachedBytes) return {d.benchmark, "not cached: under 1 MiB"};
    try {
        store(d, tmp, file);
    } catch (const std::exception& e) {
        return {d.benchmark, std::string("kept in this worker's memory: ") + e.what()};
    }
    auto mapped = map_benchmark(file);
    if (!mapped) return {d.benchmark, "kept in this worker's memory: " + file.string() + " did not read back"};
    d.benchmark.reset();
    malloc_trim(0); // what decoding left on the heap goes back to the system
    return {mapped, "decoded and written to the data cache (" + key + ")", CachedLoad::Use::Written};
}

} // namespace iclr::worker
