// Typed parameter values and the parameter set a plugin receives; no torch, shared by host and plugins.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#define ICLR_SDK_API __attribute__((visibility("default")))

namespace iclr {

// The error a plugin raises for bad input or a failed step; the host adds the plugin name.
class ICLR_SDK_API PluginError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Thrown from inside a trial when RunContext::cancelled() became true (Ctrl-C, timeout).
class ICLR_SDK_API Cancelled : public std::runtime_error {
  public:
    Cancelled() : std::runtime_error("cancelled") {}
};

// Thrown by RunContext::log when a loss (a key containing "loss") is NaN or infinite and the
// sweep stops diverging trials (the default; `[sweep] on_nonfinite = "record"` goes on). The run
// ends `diverged` with this step. Plugins let it pass (catch (...) blocks must rethrow it).
class ICLR_SDK_API Diverged : public std::runtime_error {
  public:
    Diverged(const std::string& key, const std::string& value, int64_t step)
        : std::runtime_error(key + " became " + value + " at step " + std::to_string(step)), step(step) {}
    int64_t step;
};

// One parameter value: the TOML scalar types plus arrays (nested arrays allowed).
struct Value {
    enum class Type { Int, Float, Bool, String, List };
    Type type = Type::Int;
    int64_t i = 0;
    double f = 0.0;
    bool b = false;
    std::string s;
    std::vector<Value> list;

    static Value of_int(int64_t v) {
        Value x;
        x.type = Type::Int;
        x.i = v;
        return x;
    }
    static Value of_float(double v) {
        Value x;
        x.type = Type::Float;
        x.f = v;
        return x;
    }
    static Value of_bool(bool v) {
        Value x;
        x.type = Type::Bool;
        x.b = v;
        return x;
    }
    static Value of_string(std::string v) {
        Value x;
        x.type = Type::String;
        x.s = std::move(v);
        return x;
    }
    static Value of_list(std::vector<Value> v) {
        Value x;
        x.type = Type::List;
        x.list = std::move(v);
        return x;
    }

    double as_number() const { return type == Type::Int ? double(i) : f; }
    bool operator==(const Value& o) const {
        if (type != o.type) return false;
        switch (type) {
        case Type::Int:
            return i == o.i;
        case Type::Float:
            return f == o.f;
        case Type::Bool:
            return b == o.b;
        case Type::String:
            return s == o.s;
        case Type::List:
            return list == o.list;
        }
        return false;
    }
};

// The resolved parameters of one plugin in one trial: every schema key is present
// (defaults filled in by the host), so getters only fail on a plugin bug.
class ParamSet {
  public:
    std::map<std::string, Value> values;

    // Every schema key is present, so a missing key is a typo in the plugin's own code: the
    // message says so, with the closest declared name (the sweep cannot set an undeclared key).
    const Value& at(const std::string& key) const {
        auto it = values.find(key);
        if (it == values.end()) throw PluginError(missing(key));
        return it->second;
    }
    bool has(const std::string& key) const { return values.count(key) != 0; }
    int64_t get_int(const std::string& key) const { return at(key).i; }
    double get_float(const std::string& key) const { return at(key).as_number(); }
    bool get_bool(const std::string& key) const { return at(key).b; }
    const std::string& get_string(const std::string& key) const { return at(key).s; }
    const std::vector<Value>& get_list(const std::string& key) const { return at(key).list; }

    // A list of integer lists, e.g. tasks = [[0,1],[2,3]]; a flat list gives one inner list each.
    std::vector<std::vector<int64_t>> get_int_lists(const std::string& key) const {
        std::vector<std::vector<int64_t>> out;
        for (const Value& v : get_list(key)) {
            std::vector<int64_t> inner;
            if (v.type == Value::Type::List)
                for (const Value& e : v.list)
                    inner.push_back(e.i);
            else
                inner.push_back(v.i);
            out.push_back(std::move(inner));
        }
        return out;
    }
    std::vector<int64_t> get_ints(const std::string& key) const {
        std::vector<int64_t> out;
        for (const Value& v : get_list(key))
            out.push_back(v.i);
        return out;
    }

  private:
    std::string missing(const std::string& key) const {
        std::string best;
        size_t best_d = 3;
        for (const auto& [name, v] : values) {
            // edit distance, small strings: one row at a time
            std::vector<size_t> prev(name.size() + 1), cur(name.size() + 1);
            for (size_t j = 0; j <= name.size(); ++j)
                prev[j] = j;
            for (size_t i = 1; i <= key.size(); ++i) {
                cur[0] = i;
                for (size_t j = 1; j <= name.size(); ++j)
                    cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (key[i - 1] == name[j - 1] ? 0 : 1)});
                std::swap(prev, cur);
            }
            if (prev[name.size()] < best_d) {
                best_d = prev[name.size()];
                best = name;
            }
        }
        return "parameter '" + key + "' is not in this plugin's schema" +
               (best.empty() ? std::string() : " (did you mean '" + best + "'?)") +
               ": a typo in the plugin's code, not in the sweep";
    }
};

} // namespace iclr
