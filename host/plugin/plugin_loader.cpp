// Plugin loading: ELF check before dlopen (Boost.DLL library_info), then dlopen/dlsym and the ABI
// handshake. dlopen is called directly because Boost.DLL's loader discards dlerror()'s text.
#include "plugin/plugin_loader.hpp"

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <vector>

#include <boost/dll/library_info.hpp>

#include "common/values.hpp"

#ifndef ICLR_TORCH_VERSION
#define ICLR_TORCH_VERSION "unknown"
#endif

namespace iclr {

const char* host_torch_version() { return ICLR_TORCH_VERSION; }
int host_cxx11_abi() { return _GLIBCXX_USE_CXX11_ABI; }

namespace {

std::string safe(const char* s) { return s ? std::string(s) : std::string(); }

// Checks the plugin-provided strings and schema; returns "" when fine.
std::string check_metadata(const iclr_plugin_info& info, PluginRecord& r) {
    if (info.struct_size < offsetof(iclr_plugin_info, create) + sizeof(info.create))
        return "struct_size " + std::to_string(info.struct_size) + " is smaller than ABI 1.0's";
    if (info.kind < ICLR_KIND_DATASET || info.kind > ICLR_KIND_METRIC)
        return "unknown kind " + std::to_string(info.kind);
    static const std::regex name_re("[a-z][a-z0-9_]*");
    if (!info.name || !std::regex_match(info.name, name_re))
        return "plugin name '" + safe(info.name) + "' is not a lower_snake_case identifier";
    if (!info.version || !*info.version) return "empty version";
    if (!info.create) return "no create function";
    if (info.n_params > 0 && !info.params) return "n_params > 0 but params is null";
    std::set<std::string> seen;
    for (uint32_t k = 0; k < info.n_params; ++k) {
        const iclr_param_spec& s = info.params[k];
        if (!s.name || !std::regex_match(s.name, name_re))
            return "parameter #" + std::to_string(k) + " has a bad name '" + safe(s.name) + "'";
        if (s.type < ICLR_PARAM_INT || s.type > ICLR_PARAM_LIST)
            return "parameter '" + std::string(s.name) + "' has unknown type " + std::to_string(s.type);
        if (!seen.insert(s.name).second) return "parameter '" + std::string(s.name) + "' declared twice";
        ParamSchema p;
        p.name = s.name;
        p.type = iclr_param_type(s.type);
        p.default_toml = safe(s.default_toml);
        auto v = value_from_literal(p.default_toml);
        if (!v) return "parameter '" + p.name + "' has an unparsable default '" + p.default_toml + "'";
        p.default_value = *v;
        p.min = s.min;
        p.max = s.max;
        if (s.choices) {
            std::string c = s.choices;
            size_t start = 0;
            while (true) {
                size_t bar = c.find('|', start);
                p.choices.push_back(c.substr(start, bar - start));
                if (bar == std::string::npos) break;
                start = bar + 1;
            }
        }
        p.help = safe(s.help);
        r.params.push_back(std::move(p));
    }
    return "";
}

// Whether an ELF64 shared library's dynamic symbol table defines `name` (read from the file, not
// by loading it). A file this reader does not understand (ELF32, big-endian) counts as yes:
// dlopen and dlsym decide then.
bool exports_symbol(const std::string& file, const char* name) {
    std::ifstream in(file, std::ios::binary);
    Elf64_Ehdr eh{};
    if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return false;
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) return true;
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096) return false;
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    in.seekg(std::streamoff(eh.e_shoff));
    if (!in.read(reinterpret_cast<char*>(sh.data()), std::streamsize(sh.size() * sizeof(Elf64_Shdr)))) return false;
    for (const auto& s : sh) {
        if (s.sh_type != SHT_DYNSYM || s.sh_link >= sh.size() || s.sh_entsize != sizeof(Elf64_Sym)) continue;
        const Elf64_Shdr& strtab = sh[s.sh_link];
        if (s.sh_size > (64u << 20) || strtab.sh_size > (64u << 20)) return false;
        std::vector<Elf64_Sym> syms(s.sh_size / sizeof(Elf64_Sym));
        std::string names(strtab.sh_size, '\0');
        in.seekg(std::streamoff(s.sh_offset));
        in.read(reinterpret_cast<char*>(syms.data()), std::streamsize(syms.size() * sizeof(Elf64_Sym)));
        in.seekg(std::streamoff(strtab.sh_offset));
        in.read(names.data(), std::streamsize(names.size()));
        if (!in) return false;
        for (const auto& sym : syms)
            if (sym.st_shndx != SHN_UNDEF && sym.st_name < names.size() &&
                std::strcmp(names.c_str() + sym.st_name, name) == 0)
                return true;
    }
    return false;
}

// Opens the file and calls its entry point; nullptr (with r.error set) when that fails.
const iclr_plugin_info* open_entry(const std::string& file, PluginRecord& r) {
    std::error_code ec;
    auto size = std::filesystem::file_size(file, ec);
    if (ec) {
        r.error = "cannot open: " + ec.message();
        return nullptr;
    }
    r.file_size = int64_t(size);
    // Metadata before dlopen: refuse what is not a native shared library without running its code.
    try {
        boost::dll::library_info probe(std::filesystem::path(file), false);
        // Only a library that exports the entry point is opened: a plugin path pointed at a
        // system folder must not run every library's initialisers.
        if (!exports_symbol(file, ICLR_ENTRY_SYMBOL)) {
            r.error = std::string("no entry point: symbol '") + ICLR_ENTRY_SYMBOL + "' not found";
            return nullptr;
        }
    } catch (const std::exception&) {
        r.error = "not a shared library (no ELF header)";
        return nullptr;
    }
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        r.error = "cannot open: " + safe(dlerror());
        return nullptr;
    }
    dlerror();
    auto entry = reinterpret_cast<iclr_entry_fn>(dlsym(handle, ICLR_ENTRY_SYMBOL));
    if (!entry) {
        r.error = std::string("no entry point: symbol '") + ICLR_ENTRY_SYMBOL + "' not found";
        return nullptr;
    }
    const iclr_plugin_info* info = entry();
    if (!info) r.error = "bad metadata: iclr_plugin_entry() returned null";
    return info;
}

// The loader's rule (sdk/README.md): same major, same or older minor.
bool abi_accepted(const iclr_plugin_info& info, PluginRecord& r) {
    r.abi_major = info.abi_major;
    r.abi_minor = info.abi_minor;
    if (info.abi_major == ICLR_ABI_MAJOR && info.abi_minor <= ICLR_ABI_MINOR) return true;
    r.error = "ABI mismatch: host provides " + std::to_string(ICLR_ABI_MAJOR) + "." + std::to_string(ICLR_ABI_MINOR) +
              ", plugin was built for " + std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor);
    return false;
}

// Every plugin shares the host's libtorch and C++ ABI; anything else would crash, not fail.
bool build_matches(const iclr_plugin_info& info, PluginRecord& r) {
    r.compiler = safe(info.build_compiler);
    r.torch_version = safe(info.build_torch_version);
    r.cxx11_abi = info.build_cxx11_abi;
    if (r.cxx11_abi != host_cxx11_abi()) {
        r.error = "build mismatch: host uses _GLIBCXX_USE_CXX11_ABI=" + std::to_string(host_cxx11_abi()) + ", plugin " +
                  std::to_string(r.cxx11_abi);
        return false;
    }
    if (r.torch_version != host_torch_version()) {
        r.error = "build mismatch: host links libtorch " + std::string(host_torch_version()) +
                  ", plugin was built against " + r.torch_version;
        return false;
    }
    return true;
}

} // namespace

bool reads_pretrain(const iclr_plugin_info& info) {
    if (info.struct_size < offsetof(iclr_plugin_info, flags) + sizeof(info.flags)) return true; // before 2.13
    return (info.flags & ICLR_FLAG_READS_PRETRAIN) != 0;
}

LoadedPlugin load_plugin(const std::string& file) {
    LoadedPlugin out;
    PluginRecord& r = out.record;
    r.file = file;
    const iclr_plugin_info* info = open_entry(file, r);
    if (!info || !abi_accepted(*info, r)) return out;
    if (info->kind >= ICLR_KIND_DATASET && info->kind <= ICLR_KIND_METRIC) r.kind = iclr_kind(info->kind);
    r.name = safe(info->name);
    r.version = safe(info->version);
    if (std::string err = check_metadata(*info, r); !err.empty()) {
        r.params.clear();
        r.error = "bad metadata: " + err;
        return out;
    }
    r.citation = safe(info->citation);
    r.summary = safe(info->summary);
    if (info->struct_size >= offsetof(iclr_plugin_info, source_dir) + sizeof(info->source_dir))
        r.source_dir = safe(info->source_dir); // appended in ABI 1.2: older plugins stop before it
    r.reads_pretrain = reads_pretrain(*info);
    if (!build_matches(*info, r)) return out;
    if (info->init) {
        char err[512] = {0};
        if (info->init(err, sizeof err) != 0) {
            r.error = std::string("init failed: ") + (err[0] ? err : "no message");
            return out;
        }
    }
    r.ok = true;
    out.info = info;
    return out;
}

} // namespace iclr
