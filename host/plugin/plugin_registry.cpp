// Plugin discovery: a manifest cache keyed on file facts and on the iclr build that probed; probes out of process.
#include "plugin/plugin_registry.hpp"

#include <fnmatch.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/duration.hpp"
#include "common/file_facts.hpp"
#include "common/file_hash.hpp"
#include "common/process.hpp"
#include "plugin/plugin_loader.hpp"

namespace iclr {
namespace fs = std::filesystem;

namespace {
constexpr const char* kRecordEnd = "#--iclr-record-end--";

FileFacts facts_of(const PluginRecord& r) { return {r.file_size, r.file_mtime_ns, r.file_ctime_ns, r.file_inode}; }

// A file whose name matches one of build_input_patterns().
bool is_build_input(const fs::path& p) {
    std::string name = p.filename().string();
    for (const auto& pattern : build_input_patterns())
        if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
    return false;
}

// The newest modification time of the build inputs under a plugin's source folder (0 if none).
int64_t newest_source_ns(const std::string& dir) {
    int64_t newest = 0;
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) return 0;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         it != end && !ec; it.increment(ec))
        if (it->is_regular_file(ec) && it->path().filename().string()[0] != '.' && is_build_input(it->path()))
            newest = std::max(newest, file_facts(it->path()).mtime_ns);
    return newest;
}

bool looks_like_library(const fs::path& p) {
    std::string n = p.filename().string();
    return n.size() > 3 && (n.ends_with(".so") || n.find(".so.") != std::string::npos);
}

// The build of iclr whose probe wrote a manifest: what a record says (an ABI mismatch, the
// parameter schema as this loader reads it) depends on it as much as on the plugin file, so a
// manifest another build wrote is not reused (a rebuilt host served 'host provides 2.4' from a
// manifest its 2.4 build had written). The probe executable's path and file facts.
std::string probe_identity(const std::string& exe) {
    return "# probed by: " + exe + " " + file_facts(exe).text() + "\n";
}

// The records of a manifest `probed_by` wrote (its first line); none from another build's.
std::vector<PluginRecord> read_manifest(const fs::path& file, const std::string& probed_by) {
    std::ifstream in(file);
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (!text.starts_with(probed_by)) return {};
    return records_from_toml(text);
}

void write_manifest(const fs::path& file, const std::string& probed_by, const std::vector<PluginRecord>& records) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    fs::path tmp = file;
    tmp += ".tmp." + std::to_string(getpid());
    {
        std::ofstream out(tmp);
        if (!out) return; // an unwritable cache only costs speed
        out << probed_by << records_to_toml(records);
        if (!out) {
            fs::remove(tmp, ec);
            return;
        }
    }
    fs::rename(tmp, file, ec);
    if (ec) fs::remove(tmp, ec);
}

// Seconds a probe may spend on one file before the plugin counts as hung (ICLR_PROBE_TIMEOUT).
double probe_timeout_s() {
    const char* env = std::getenv("ICLR_PROBE_TIMEOUT");
    double v = env && *env ? std::atof(env) : 0.0;
    return v > 0 ? v : 10.0;
}

// Probes files in `iclr __probe` children; a child that dies or hangs takes only the file it was on.
std::vector<PluginRecord> probe_out_of_process(const std::string& exe, std::vector<std::string> files) {
    std::vector<PluginRecord> out;
    double timeout = probe_timeout_s();
    while (!files.empty()) {
        std::vector<std::string> argv{exe, "__probe"};
        argv.insert(argv.end(), files.begin(), files.end());
        Captured c = run_capture(argv, true, timeout); // the probe prints each file's record when done
        size_t done = 0;
        std::string chunk;
        std::istringstream lines(c.out);
        std::string line;
        while (std::getline(lines, line)) {
            if (line == kRecordEnd) {
                auto recs = records_from_toml(chunk);
                chunk.clear();
                if (recs.size() == 1 && done < files.size()) {
                    out.push_back(recs[0]);
                    ++done;
                }
            } else {
                chunk += line + "\n";
            }
        }
        if (done == files.size()) break;
        PluginRecord crashed;
        crashed.file = files[done];
        crashed.error = c.timed_out ? "hung while loading (no answer in " + format_duration(timeout) +
                                          "; ICLR_PROBE_TIMEOUT sets the limit)"
                                    : "crashed while loading (" + describe_status(c.status) + ")";
        out.push_back(crashed);
        files.erase(files.begin(), files.begin() + long(done) + 1);
    }
    return out;
}

// What a file's hash was taken of: its facts before hashing, or zeros when it changed while being
// hashed (a build writing it), so the next command hashes it again instead of trusting this hash.
std::pair<std::string, FileFacts> hash_with_facts(const std::string& file) {
    FileFacts before = file_facts(file);
    std::string sha = sha256_file(file);
    return {sha, file_facts(file) == before ? before : FileFacts{}};
}

// The probe's records with each file's hash and facts. Hashed while the probe runs: the probe's
// time is mostly its child loading libtorch, the hashing's is reading the files here, and the
// first command after a build pays both.
std::vector<PluginRecord> probe_and_hash(const std::string& exe, const std::vector<std::string>& files) {
    std::map<std::string, std::pair<std::string, FileFacts>> hashed;
    std::thread hasher([&] {
        for (const auto& f : files)
            hashed[f] = hash_with_facts(f);
    });
    std::vector<PluginRecord> probed;
    try {
        probed = probe_out_of_process(exe, files);
    } catch (...) {
        hasher.join();
        throw;
    }
    hasher.join();
    for (auto& r : probed) { // the probe names each record by the file it was given
        const auto& [sha, f] = hashed.at(r.file);
        r.sha256 = sha;
        r.file_size = f.size;
        r.file_mtime_ns = f.mtime_ns;
        r.file_ctime_ns = f.ctime_ns;
        r.file_inode = f.inode;
    }
    return probed;
}

// The plugin libraries under dirs, each folder's sorted, in search order, each file once.
std::vector<std::string> library_files(const std::vector<fs::path>& dirs) {
    std::vector<std::string> files;
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) continue;
        std::vector<std::string> here;
        for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
             it != end; it.increment(ec)) {
            if (ec) break;
            if (it->is_regular_file(ec) && looks_like_library(it->path()))
                here.push_back(fs::weakly_canonical(it->path(), ec).string());
        }
        std::sort(here.begin(), here.end());
        for (auto& f : here)
            if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
    }
    return files;
}

// The first plugin of a kind/name in search order wins; later ones are reported as duplicates.
void mark_duplicates(std::vector<PluginRecord>& records) {
    std::map<std::string, std::string> first;
    for (auto& r : records) {
        if (!r.ok) continue;
        auto [it, inserted] = first.emplace(r.id(), r.file);
        if (!inserted) {
            r.ok = false;
            r.error = "duplicate: " + std::string(kind_name(r.kind)) + " '" + r.name + "' is already provided by " +
                      it->second;
        }
    }
}

} // namespace

const std::vector<std::string>& build_input_patterns() {
    static const std::vector<std::string> patterns{"*.c",   "*.cc",  "*.cpp", "*.cxx",   "*.h",           "*.hh",
                                                   "*.hpp", "*.hxx", "*.inl", "*.cmake", "CMakeLists.txt"};
    return patterns;
}

std::vector<fs::path> PluginRegistry::default_search_path() {
    std::vector<fs::path> dirs;
    // Relative to the executable only, so a moved build or an installed prefix finds its own
    // plugins (and never another tree's as well): build/bin/iclr -> build/plugins,
    // PREFIX/bin/iclr -> PREFIX/lib/iclr/plugins.
    fs::path prefix = fs::path(exe_dir()).parent_path();
    for (fs::path d : {prefix / "plugins", prefix / "lib" / "iclr" / "plugins"}) {
        std::error_code ec;
        if (fs::is_directory(d, ec)) dirs.push_back(d);
    }
    if (const char* env = std::getenv("ICLR_PLUGIN_PATH")) {
        std::string s = env;
        size_t start = 0;
        while (start <= s.size()) {
            size_t colon = s.find(':', start);
            std::string part = s.substr(start, colon - start);
            if (!part.empty()) dirs.push_back(part);
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    return dirs;
}

std::string PluginRegistry::where_searched() const {
    std::string dirs;
    for (const auto& d : dirs_)
        dirs += (dirs.empty() ? "" : ", ") + d.string();
    std::string s = dirs.empty() ? "" : "; searched " + dirs;
    const char* env = std::getenv("ICLR_PLUGIN_PATH");
    if (!env || !*env) s += "; a plugin built elsewhere: put the plugins/ folder of its build in ICLR_PLUGIN_PATH";
    return s;
}

fs::path PluginRegistry::cache_root() {
    if (const char* d = std::getenv("ICLR_CACHE_DIR"); d && *d) return d;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "iclr";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "iclr";
    return fs::temp_directory_path() / "iclr-cache";
}

PluginRegistry::PluginRegistry(std::vector<fs::path> dirs, std::string probe_exe)
    : dirs_(std::move(dirs)), probe_exe_(probe_exe.empty() ? self_exe() : std::move(probe_exe)) {}

PluginRegistry PluginRegistry::with_records(std::vector<PluginRecord> records) {
    PluginRegistry r({}, "-");
    r.records_ = std::move(records);
    return r;
}

void PluginRegistry::discover() {
    std::vector<std::string> files = library_files(dirs_);
    fs::path manifest = cache_root() / "plugins.toml";
    const std::string probed_by = probe_identity(probe_exe_);
    std::map<std::string, PluginRecord> cached;
    for (auto& r : read_manifest(manifest, probed_by))
        cached[r.file] = std::move(r);

    std::vector<std::string> to_probe; // new or changed since the manifest was written
    for (const auto& f : files) {
        auto it = cached.find(f);
        if (it == cached.end() || !(facts_of(it->second) == file_facts(f))) to_probe.push_back(f);
    }
    bool changed = !to_probe.empty();
    for (auto& r : probe_and_hash(probe_exe_, to_probe))
        cached[r.file] = std::move(r);

    records_.clear();
    for (const auto& f : files) {
        records_.push_back(cached[f]);
        PluginRecord& r = records_.back();
        r.stale = r.ok && newest_source_ns(r.source_dir) > r.file_mtime_ns;
    }
    mark_duplicates(records_);
    if (changed || cached.size() != files.size()) {
        std::vector<PluginRecord> keep;
        for (const auto& f : files)
            keep.push_back(cached[f]);
        for (auto& [file, rec] : cached) // keep other search paths' entries (tests use several)
            if (std::find(files.begin(), files.end(), file) == files.end() && fs::exists(file)) keep.push_back(rec);
        write_manifest(manifest, probed_by, keep);
    }
}

const PluginRecord* PluginRegistry::find(iclr_kind kind, const std::string& name) const {
    const PluginRecord* broken = nullptr;
    for (const auto& r : records_) {
        if (r.name != name || r.kind != kind) continue;
        if (r.ok) return &r;
        if (!broken) broken = &r;
    }
    return broken;
}

std::vector<const PluginRecord*> PluginRegistry::lookup(const std::string& spec) const {
    std::vector<const PluginRecord*> out;
    auto slash = spec.find('/');
    std::optional<iclr_kind> kind;
    std::string name = spec;
    if (slash != std::string::npos) {
        kind = kind_from_name(spec.substr(0, slash));
        name = spec.substr(slash + 1);
        if (!kind) return out;
    }
    for (const auto& r : records_)
        if (r.name == name && (!kind || r.kind == *kind)) out.push_back(&r);
    return out;
}

int probe_main(const std::vector<std::string>& files) {
    for (const auto& f : files) {
        LoadedPlugin p = load_plugin(f);
        std::string text = records_to_toml({p.record});
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::printf("%s\n", kRecordEnd);
        std::fflush(stdout);
    }
    return 0;
}

} // namespace iclr
