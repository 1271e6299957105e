// Value conversions; TOML literals are round-trippable so trial configs hash stably.
#include "common/values.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace iclr {

std::optional<Value> value_from_toml(const toml::node& node) {
    if (auto v = node.as_integer()) return Value::of_int(v->get());
    if (auto v = node.as_floating_point()) return Value::of_float(v->get());
    if (auto v = node.as_boolean()) return Value::of_bool(v->get());
    if (auto v = node.as_string()) return Value::of_string(v->get());
    if (auto arr = node.as_array()) {
        std::vector<Value> out;
        for (const auto& e : *arr) {
            auto x = value_from_toml(e);
            if (!x) return std::nullopt;
            out.push_back(std::move(*x));
        }
        return Value::of_list(std::move(out));
    }
    return std::nullopt;
}

std::optional<Value> value_from_literal(const std::string& literal) {
    auto parsed = toml::parse("v = " + literal);
    if (!parsed) return std::nullopt;
    const toml::node* n = parsed.table().get("v");
    if (!n) return std::nullopt;
    return value_from_toml(*n);
}

std::string float_text(double f) {
    if (std::isnan(f)) return "nan";
    if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, f); // shortest text that round-trips
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

std::string six_digits(double f) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", f);
    return buf;
}

std::string four_digits(double f) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", f);
    return buf;
}

std::string json_escape(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            o += "\\\"";
            break;
        case '\\':
            o += "\\\\";
            break;
        case '\n':
            o += "\\n";
            break;
        case '\r':
            o += "\\r";
            break;
        case '\t':
            o += "\\t";
            break;
        default:
            if (c < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", c);
                o += b;
            } else {
                o += char(c);
            }
        }
    }
    return o + "\"";
}

std::string value_to_toml(const Value& v) {
    switch (v.type) {
    case Value::Type::Int:
        return std::to_string(v.i);
    case Value::Type::Float:
        return float_text(v.f);
    case Value::Type::Bool:
        return v.b ? "true" : "false";
    case Value::Type::String:
        return json_escape(v.s); // TOML basic strings share JSON's escapes
    case Value::Type::List: {
        std::string s = "[";
        for (size_t k = 0; k < v.list.size(); ++k)
            s += (k ? ", " : "") + value_to_toml(v.list[k]);
        return s + "]";
    }
    }
    return "";
}

std::string value_to_json(const Value& v) {
    if (v.type == Value::Type::Float && !std::isfinite(v.f)) return json_escape(float_text(v.f));
    if (v.type == Value::Type::List) {
        std::string s = "[";
        for (size_t k = 0; k < v.list.size(); ++k)
            s += (k ? "," : "") + value_to_json(v.list[k]);
        return s + "]";
    }
    return value_to_toml(v);
}

const char* value_type_name(Value::Type t) {
    switch (t) {
    case Value::Type::Int:
        return "int";
    case Value::Type::Float:
        return "float";
    case Value::Type::Bool:
        return "bool";
    case Value::Type::String:
        return "string";
    case Value::Type::List:
        return "list";
    }
    return "?";
}

std::string section_text(const std::string& name, const std::string& version, const ParamSet& params) {
    std::string s = name + "@" + version + " {";
    for (const auto& [k, v] : params.values)
        s += " " + k + " = " + value_to_toml(v);
    return s + " }";
}

std::string inline_table(const ParamSet& params) {
    std::string s = "{";
    for (const auto& [k, v] : params.values) // std::map: sorted keys
        s += (s.size() == 1 ? " " : ", ") + k + " = " + value_to_toml(v);
    return s.size() == 1 ? "{}" : s + " }";
}

std::string quote_doubling(const std::string& s, char q) {
    std::string out(1, q);
    for (char c : s) {
        out += c;
        if (c == q) out += c;
    }
    return out + q;
}

} // namespace iclr
