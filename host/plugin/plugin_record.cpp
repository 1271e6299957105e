// Plugin record helpers and the manifest (de)serialisation.
#include "plugin/plugin_record.hpp"

#include <sstream>

#include <toml++/toml.h>

#include "common/values.hpp"

namespace iclr {

const char* kind_name(iclr_kind k) {
    switch (k) {
    case ICLR_KIND_DATASET:
        return "dataset";
    case ICLR_KIND_MODEL:
        return "model";
    case ICLR_KIND_METHOD:
        return "method";
    case ICLR_KIND_METRIC:
        return "metric";
    }
    return "unknown";
}

const char* kind_folder(iclr_kind k) {
    switch (k) {
    case ICLR_KIND_DATASET:
        return "datasets";
    case ICLR_KIND_MODEL:
        return "models";
    case ICLR_KIND_METHOD:
        return "methods";
    case ICLR_KIND_METRIC:
        return "metrics";
    }
    return "unknown";
}

std::optional<iclr_kind> kind_from_name(const std::string& s) {
    for (iclr_kind k : {ICLR_KIND_DATASET, ICLR_KIND_MODEL, ICLR_KIND_METHOD, ICLR_KIND_METRIC})
        if (s == kind_name(k) || s == kind_folder(k)) return k;
    return std::nullopt;
}

const char* param_type_name(iclr_param_type t) {
    switch (t) {
    case ICLR_PARAM_INT:
        return "int";
    case ICLR_PARAM_FLOAT:
        return "float";
    case ICLR_PARAM_BOOL:
        return "bool";
    case ICLR_PARAM_STRING:
        return "string";
    case ICLR_PARAM_LIST:
        return "list";
    }
    return "?";
}

std::string PluginRecord::id() const { return std::string(kind_folder(kind)) + "/" + name; }

std::string records_to_toml(const std::vector<PluginRecord>& records) {
    toml::table root;
    toml::array list;
    for (const auto& r : records) {
        toml::table t;
        t.insert("file", r.file);
        t.insert("file_size", r.file_size);
        t.insert("file_mtime_ns", r.file_mtime_ns);
        t.insert("file_ctime_ns", r.file_ctime_ns);
        t.insert("file_inode", r.file_inode);
        t.insert("sha256", r.sha256);
        t.insert("ok", r.ok);
        t.insert("error", r.error);
        t.insert("kind", int64_t(r.kind));
        t.insert("name", r.name);
        t.insert("version", r.version);
        t.insert("citation", r.citation);
        t.insert("summary", r.summary);
        t.insert("abi_major", int64_t(r.abi_major));
        t.insert("abi_minor", int64_t(r.abi_minor));
        t.insert("compiler", r.compiler);
        t.insert("torch_version", r.torch_version);
        t.insert("cxx11_abi", int64_t(r.cxx11_abi));
        t.insert("source_dir", r.source_dir);
        t.insert("reads_pretrain", r.reads_pretrain);
        toml::array ps;
        for (const auto& p : r.params) {
            toml::table pt;
            pt.insert("name", p.name);
            pt.insert("type", int64_t(p.type));
            pt.insert("default", p.default_toml);
            pt.insert("min", p.min);
            pt.insert("max", p.max);
            toml::array ch;
            for (const auto& c : p.choices)
                ch.push_back(c);
            pt.insert("choices", std::move(ch));
            pt.insert("help", p.help);
            ps.push_back(std::move(pt));
        }
        t.insert("params", std::move(ps));
        list.push_back(std::move(t));
    }
    root.insert("plugin", std::move(list));
    std::ostringstream out;
    out << root << "\n";
    return out.str();
}

std::vector<PluginRecord> records_from_toml(const std::string& text) {
    std::vector<PluginRecord> out;
    auto parsed = toml::parse(text);
    if (!parsed) return out;
    const toml::array* list = parsed.table()["plugin"].as_array();
    if (!list) return out;
    for (const auto& node : *list) {
        const toml::table* t = node.as_table();
        if (!t) continue;
        const toml::table& tt = *t;
        PluginRecord r;
        r.file = tt["file"].value_or(std::string());
        r.file_size = tt["file_size"].value_or(int64_t(0));
        r.file_mtime_ns = tt["file_mtime_ns"].value_or(int64_t(0));
        r.file_ctime_ns = tt["file_ctime_ns"].value_or(int64_t(0));
        r.file_inode = tt["file_inode"].value_or(int64_t(0));
        r.sha256 = tt["sha256"].value_or(std::string());
        r.ok = tt["ok"].value_or(false);
        r.error = tt["error"].value_or(std::string());
        r.kind = iclr_kind(tt["kind"].value_or(int64_t(ICLR_KIND_METHOD)));
        r.name = tt["name"].value_or(std::string());
        r.version = tt["version"].value_or(std::string());
        r.citation = tt["citation"].value_or(std::string());
        r.summary = tt["summary"].value_or(std::string());
        r.abi_major = uint32_t(tt["abi_major"].value_or(int64_t(0)));
        r.abi_minor = uint32_t(tt["abi_minor"].value_or(int64_t(0)));
        r.compiler = tt["compiler"].value_or(std::string());
        r.torch_version = tt["torch_version"].value_or(std::string());
        r.cxx11_abi = int(tt["cxx11_abi"].value_or(int64_t(-1)));
        r.source_dir = tt["source_dir"].value_or(std::string());
        r.reads_pretrain = tt["reads_pretrain"].value_or(true);
        if (const toml::array* ps = tt["params"].as_array()) {
            for (const auto& pn : *ps) {
                const toml::table* pt = pn.as_table();
                if (!pt) continue;
                ParamSchema p;
                p.name = (*pt)["name"].value_or(std::string());
                p.type = iclr_param_type((*pt)["type"].value_or(int64_t(1)));
                p.default_toml = (*pt)["default"].value_or(std::string());
                if (auto v = value_from_literal(p.default_toml)) p.default_value = *v;
                p.min = (*pt)["min"].value_or(1.0);
                p.max = (*pt)["max"].value_or(0.0);
                if (const toml::array* ch = (*pt)["choices"].as_array())
                    for (const auto& c : *ch)
                        p.choices.push_back(c.value_or(std::string()));
                p.help = (*pt)["help"].value_or(std::string());
                r.params.push_back(std::move(p));
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace iclr
