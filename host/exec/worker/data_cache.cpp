// The data cache's file format (a TOML manifest, then aligned tensor bytes), its mapping, its lock.
#include "exec/worker/data_cache.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include <toml++/toml.h>

namespace iclr::worker {
namespace fs = std::filesystem;
namespace {

// "ICLRDATA", the manifest's length (8 bytes, little-endian), the manifest, then the tensors at
// 64-byte aligned offsets from the start of the file. v1 in the magic: a new layout is a new magic.
constexpr char kMagic[8] = {'I', 'C', 'L', 'R', 'D', 'A', 'T', '1'};
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

// The manifest; fills offsets (from the start of the file) for the tensors' bytes.
std::string manifest(const Benchmark& b, const std::vector<Entry>& es, std::vector<int64_t>& offsets,
                     int64_t data_start) {
    toml::table m{{"name", b.name}, {"num_classes", b.num_classes}, {"input_shape", int_array(b.input_shape)}};
    toml::array tasks, shifted, tensors;
    for (const auto& t : b.tasks)
        tasks.push_back(toml::table{{"name", t.name}, {"classes", int_array(t.classes)}});
    for (const auto& [name, s] : b.shifted_tests)
        shifted.push_back(toml::table{{"name", name}});
    int64_t at = data_start;
    for (const auto& e : es) {
        int64_t bytes = int64_t(e.t.numel()) * int64_t(e.t.element_size());
        offsets.push_back(at);
        tensors.push_back(toml::table{{"split", e.split},
                                      {"field", e.field},
                                      {"dtype", dtype_name(e.t.scalar_type())},
                                      {"shape", int_array(e.t.sizes().vec())},
                                      {"offset", at},
                                      {"bytes", bytes}});
        at = aligned(at + bytes);
    }
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
    std::vector<Entry> es = entries(b);
    std::vector<int64_t> offsets;
    // The data starts after the manifest, whose offsets depend on where the data starts: a draft
    // with offsets from 0 gives the length, plus room for each offset's extra digits.
    std::string text = manifest(b, es, offsets, 0);
    int64_t start = aligned(int64_t(sizeof kMagic) + 8 + int64_t(text.size()) + 20 * int64_t(es.size()) + 64);
    offsets.clear();
    text = manifest(b, es, offsets, start);
    if (int64_t(sizeof kMagic) + 8 + int64_t(text.size()) > start)
        throw std::runtime_error("data cache: manifest outgrew its space in " + file.string());
    fs::path tmp = file;
    tmp += ".tmp." + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("data cache: creating " + tmp.string() + ": " + std::strerror(errno));
    try {
        uint64_t len = text.size();
        unsigned char len_bytes[8];
        for (int i = 0; i < 8; ++i)
            len_bytes[i] = (len >> (8 * i)) & 0xff;
        write_at(fd, kMagic, sizeof kMagic, 0, tmp);
        write_at(fd, len_bytes, 8, sizeof kMagic, tmp);
        write_at(fd, text.data(), text.size(), sizeof kMagic + 8, tmp);
        for (size_t i = 0; i < es.size(); ++i) {
            torch::Tensor c = es[i].t.contiguous();
            write_at(fd, c.data_ptr(), size_t(c.numel()) * c.element_size(), offsets[i], tmp);
        }
        int64_t end = es.empty() ? start : aligned(offsets.back() + es.back().t.numel() * es.back().t.element_size());
        if (ftruncate(fd, end) != 0 || fsync(fd) != 0)
            throw std::runtime_error("data cache: writing " + tmp.string() + ": " + std::strerror(errno));
        close(fd);
        fd = -1;
        fs::rename(tmp, file);
    } catch (...) {
        if (fd >= 0) close(fd);
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
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
    close(fd); // the mapping keeps the file
    if (map->addr == MAP_FAILED) return nullptr;
    const char* p = static_cast<const char*>(map->addr);
    if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return nullptr;
    uint64_t len = 0;
    for (int i = 0; i < 8; ++i)
        len |= uint64_t(static_cast<unsigned char>(p[8 + i])) << (8 * i);
    if (len > map->size - 16) return nullptr;
    auto parsed = toml::parse(std::string_view(p + 16, len));
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

CachedLoad load_cached(const fs::path& dir, const std::string& key, const std::function<Benchmark()>& load) {
    fs::path file = dir / (key + ".data");
    std::error_code ec;
    fs::create_directories(dir, ec);
    int lock = open((file.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock >= 0) flock(lock, LOCK_EX);
    struct Unlock {
        int fd;
        ~Unlock() {
            if (fd >= 0) close(fd);
        }
    } unlock{lock};
    if (auto b = map_benchmark(file)) return {b, "mapped from the data cache (" + key + ")"};
    malloc_trim(0); // the decoded set is the worker's largest allocation: not on top of freed heap
    auto decoded = std::make_shared<Benchmark>(load());
    if (std::string why = uncacheable(*decoded); !why.empty()) return {decoded, "not cached: " + why};
    if (tensor_bytes(*decoded) < kMinCachedBytes) return {decoded, "not cached: under 1 MiB"};
    try {
        write_benchmark(*decoded, file);
    } catch (const std::exception& e) {
        return {decoded, std::string("kept in this worker's memory: ") + e.what()};
    }
    auto mapped = map_benchmark(file);
    if (!mapped) return {decoded, "kept in this worker's memory: " + file.string() + " did not read back"};
    decoded.reset();
    malloc_trim(0); // the decoded copy goes back to the system, not to this worker's heap
    return {mapped, "decoded and written to the data cache (" + key + ")"};
}

} // namespace iclr::worker
