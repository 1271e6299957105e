// Parameters declared once: a struct of typed fields IS the schema, and the host fills it.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "iclr/abi.h"
#include "iclr/params.hpp"

namespace iclr {

// A plugin's parameters as a struct; each field names itself once, with its default, range and
// help. ICLR_PLUGIN reads the schema from a default-constructed struct, and the host fills one
// for every trial, so a misspelt field does not compile and an undeclared key cannot be read:
//
//   struct Params {
//       iclr::Float lr{"lr", 0.05, 0.0, 10.0, "SGD learning rate"};
//       iclr::Int epochs{"epochs", 1, 1, 1000, "epochs per task"};
//       iclr::String optimizer{"optimizer", "sgd", "sgd|adam", "optimiser"};
//       iclr::Bool reset{"reset_optimizer", true, "a fresh optimiser for every task"};
//       iclr::List tasks{"tasks", "[[0,1],[2,3]]", "class ids of each task"};
//   };
//   MyMethod(const Params& p, iclr::RunContext& ctx) : lr_(p.lr), opt_(p.optimizer()) {}
//
// A field reads as its value (`double lr = p.lr;`); `p.optimizer()` gives it explicitly (use it
// where a conversion is not enough, e.g. `p.optimizer() == "adam"`).
namespace detail {

class Field {
  public:
    virtual ~Field() = default;
    virtual iclr_param_spec spec() const = 0;
    virtual void fill(const ParamSet& set) = 0;
    const char* name() const { return name_; }

  protected:
    explicit Field(const char* name) : name_(name) {
        if (collector()) collector()->push_back(this);
    }
    // Copies are values, not declarations: they never register.
    Field(const Field& o) : name_(o.name_) {}
    Field& operator=(const Field&) = default;

  public:
    // While set, every Field constructed registers itself here, in declaration order.
    static std::vector<Field*>*& collector() {
        thread_local std::vector<Field*>* c = nullptr;
        return c;
    }

  private:
    const char* name_;
};

// The fields of a freshly constructed P, in declaration order.
template <class P> struct Declared {
    std::vector<Field*> fields;
    P params = make();

  private:
    struct Collecting {
        std::vector<Field*>* saved;
        explicit Collecting(std::vector<Field*>* into) : saved(Field::collector()) { Field::collector() = into; }
        ~Collecting() { Field::collector() = saved; }
    };
    // A prvalue: P is built in place in `params`, so the addresses registered are its fields.
    P make() {
        Collecting c(&fields);
        return P{};
    }
};

inline std::string float_literal(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
}

inline std::string string_literal(const std::string& s) {
    std::string o = "\"";
    for (char c : s)
        o += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return o + "\"";
}

} // namespace detail

class Int : public detail::Field {
  public:
    Int(const char* name, int64_t def, int64_t lo, int64_t hi, const char* help)
        : Field(name), value_(def), lo_(lo), hi_(hi), help_(help), def_(std::to_string(def)) {}
    operator int64_t() const { return value_; }
    int64_t operator()() const { return value_; }
    iclr_param_spec spec() const override {
        return {name(), ICLR_PARAM_INT, def_.c_str(), double(lo_), double(hi_), nullptr, help_};
    }
    void fill(const ParamSet& set) override { value_ = set.get_int(name()); }

  private:
    int64_t value_, lo_, hi_;
    const char* help_;
    std::string def_;
};

class Float : public detail::Field {
  public:
    Float(const char* name, double def, double lo, double hi, const char* help)
        : Field(name), value_(def), lo_(lo), hi_(hi), help_(help), def_(detail::float_literal(def)) {}
    operator double() const { return value_; }
    double operator()() const { return value_; }
    iclr_param_spec spec() const override { return {name(), ICLR_PARAM_FLOAT, def_.c_str(), lo_, hi_, nullptr, help_}; }
    void fill(const ParamSet& set) override { value_ = set.get_float(name()); }

  private:
    double value_, lo_, hi_;
    const char* help_;
    std::string def_;
};

class Bool : public detail::Field {
  public:
    Bool(const char* name, bool def, const char* help) : Field(name), value_(def), help_(help) {}
    operator bool() const { return value_; }
    bool operator()() const { return value_; }
    iclr_param_spec spec() const override {
        return {name(), ICLR_PARAM_BOOL, value_ ? "true" : "false", 1.0, 0.0, nullptr, help_};
    }
    void fill(const ParamSet& set) override { value_ = set.get_bool(name()); }

  private:
    bool value_;
    const char* help_;
};

// choices: "a|b|c" (one of them), or nullptr for any string.
class String : public detail::Field {
  public:
    String(const char* name, const char* def, const char* choices, const char* help)
        : Field(name), value_(def), choices_(choices), help_(help), def_(detail::string_literal(def)) {}
    operator const std::string&() const { return value_; }
    const std::string& operator()() const { return value_; }
    iclr_param_spec spec() const override {
        return {name(), ICLR_PARAM_STRING, def_.c_str(), 1.0, 0.0, choices_, help_};
    }
    void fill(const ParamSet& set) override { value_ = set.get_string(name()); }

  private:
    std::string value_;
    const char* choices_;
    const char* help_;
    std::string def_;
};

// Any TOML array; the default is written as a TOML literal, e.g. "[[0,1],[2,3]]".
class List : public detail::Field {
  public:
    List(const char* name, const char* def_toml, const char* help) : Field(name), def_(def_toml), help_(help) {}
    const Value& operator()() const { return set_.at(name()); }
    // tasks = [[0,1],[2,3]] as int lists (a flat list gives one inner list per element).
    std::vector<std::vector<int64_t>> int_lists() const { return set_.get_int_lists(name()); }
    std::vector<int64_t> ints() const { return set_.get_ints(name()); }
    iclr_param_spec spec() const override { return {name(), ICLR_PARAM_LIST, def_, 1.0, 0.0, nullptr, help_}; }
    void fill(const ParamSet& set) override { set_.values = {{name(), set.at(name())}}; }

  private:
    const char* def_;
    const char* help_;
    ParamSet set_; // this one value, so the list helpers are ParamSet's own
};

// The host's ParamSet as the plugin's struct (every field filled).
template <class P> P fill_params(const ParamSet& set) {
    detail::Declared<P> d;
    for (detail::Field* f : d.fields)
        f->fill(set);
    return std::move(d.params);
}

} // namespace iclr
