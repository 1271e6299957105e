// Sweep directives: grid/choice lists, range, linspace/logspace, and the random draws.
#include <cmath>
#include <set>

#include "common/values.hpp"
#include "sweep/sweep_parts.hpp"

namespace iclr {
namespace {

const std::set<std::string> kGridDirectives{"grid", "range", "linspace", "logspace"};
const std::set<std::string> kRandomDirectives{"choice", "uniform", "loguniform", "randint"};
constexpr int64_t kMaxAxisValues = 10'000'000;

std::optional<double> number(ParseContext& ctx, const toml::node& n) {
    if (auto i = n.as_integer()) return double(i->get());
    if (auto f = n.as_floating_point()) return f->get();
    ctx.err(n, "expected a number");
    return std::nullopt;
}

// grid = [...] and choice = [...]: explicit values, each with its position for errors.
bool list_values(ParseContext& ctx, Axis& a, const toml::array& arr, const toml::node& body) {
    if (arr.empty()) {
        ctx.err(body, a.label + ": empty " + a.directive + " (it would give no trials)");
        return false;
    }
    for (const auto& e : arr) {
        auto v = value_from_toml(e);
        if (!v) {
            ctx.err(e, a.label + ": unsupported value in " + a.directive);
            continue;
        }
        a.values.push_back(*v);
        a.value_pos.push_back(ctx.pos(e));
    }
    a.kind = a.directive == "grid" ? Axis::Kind::Grid : Axis::Kind::Choice;
    return true;
}

// range = [start, stop] or [start, stop, step], stop excluded, generated lazily.
bool range(ParseContext& ctx, Axis& a, const toml::array& arr, const toml::node& body) {
    if (arr.size() < 2 || arr.size() > 3) {
        ctx.err(body, a.label + ": range = [start, stop] or [start, stop, step] (stop excluded)");
        return false;
    }
    bool all_int = true;
    for (const auto& e : arr)
        all_int = all_int && e.is_integer();
    auto start = number(ctx, *arr.get(0)), stop = number(ctx, *arr.get(1));
    auto step = arr.size() == 3 ? number(ctx, *arr.get(2)) : std::optional<double>(1.0);
    if (!start || !stop || !step) return false;
    std::string problem;
    double count = std::ceil((*stop - *start) / *step - 1e-9);
    if (*step == 0 || (*stop - *start) / *step < 0)
        problem = "range step goes away from stop (or is zero)";
    else if (count < 1)
        problem = "empty range (it would give no trials)";
    else if (count > double(kMaxAxisValues))
        problem = "range has more than 10000000 values";
    if (!problem.empty()) {
        ctx.err(body, a.label + ": " + problem);
        return false;
    }
    a.gen = Axis::Gen::Range;
    a.count = uint64_t(count);
    a.start = *start;
    a.step = *step;
    a.ints = all_int;
    return true;
}

// linspace / logspace = [low, high, count].
bool spaced(ParseContext& ctx, Axis& a, const toml::array& arr, const toml::node& body) {
    const std::string& dir = a.directive;
    if (arr.size() != 3 || !arr.get(2)->is_integer()) {
        ctx.err(body, a.label + ": " + dir + " = [low, high, count]");
        return false;
    }
    auto lo = number(ctx, *arr.get(0)), hi = number(ctx, *arr.get(1));
    int64_t n = arr.get(2)->as_integer()->get();
    if (!lo || !hi) return false;
    if (n < 1 || n > kMaxAxisValues) {
        ctx.err(*arr.get(2), a.label + ": count must be between 1 and 10000000");
        return false;
    }
    if (dir == "logspace" && (*lo <= 0 || *hi <= 0)) {
        ctx.err(body, a.label + ": logspace bounds must be > 0 (they are values, not exponents)");
        return false;
    }
    a.gen = dir == "linspace" ? Axis::Gen::Linspace : Axis::Gen::Logspace;
    a.count = uint64_t(n);
    a.lo = *lo;
    a.hi = *hi;
    return true;
}

// uniform / loguniform / randint = [low, high]: drawn per sample.
bool random_draw(ParseContext& ctx, Axis& a, const toml::array& arr, const toml::node& body) {
    const std::string& dir = a.directive;
    if (arr.size() != 2) {
        ctx.err(body, a.label + ": " + dir + " = [low, high]");
        return false;
    }
    auto lo = number(ctx, *arr.get(0)), hi = number(ctx, *arr.get(1));
    if (!lo || !hi) return false;
    std::string problem;
    if (*lo > *hi)
        problem = dir + " low > high";
    else if (dir == "loguniform" && *lo <= 0)
        problem = "loguniform bounds must be > 0";
    else if (dir == "randint" && !(arr.get(0)->is_integer() && arr.get(1)->is_integer()))
        problem = "randint bounds must be integers";
    if (!problem.empty()) {
        ctx.err(body, a.label + ": " + problem);
        return false;
    }
    a.lo = *lo;
    a.hi = *hi;
    a.kind = dir == "uniform"      ? Axis::Kind::Uniform
             : dir == "loguniform" ? Axis::Kind::LogUniform
                                   : Axis::Kind::RandInt;
    return true;
}

// The directive key and zip name of a directive table; nullptr (after an error) when malformed.
const toml::node* directive_body(ParseContext& ctx, Axis& a, const toml::table& d, const toml::node& node) {
    const toml::node* body = nullptr;
    for (auto&& [k, v] : d) {
        std::string dk(k.str());
        if (dk == "zip") {
            if (!v.is_string())
                ctx.err(v, "zip must be a group name string");
            else
                a.zip = v.as_string()->get();
        } else if (kGridDirectives.count(dk) || kRandomDirectives.count(dk)) {
            if (body) {
                ctx.err(v, a.label + ": more than one directive in one table");
                return nullptr;
            }
            a.directive = dk;
            body = &v;
        } else {
            ctx.err(v, a.label + ": unknown directive '" + dk +
                           "' (known: grid, range, linspace, logspace, choice, uniform, loguniform, randint, zip)");
            return nullptr;
        }
    }
    if (!body) ctx.err(node, a.label + ": a table value must hold a directive, e.g. { grid = [1, 2] }");
    return body;
}

} // namespace

void parse_directive(ParseContext& ctx, int section, const std::string& role, const std::string& key,
                     const toml::table& d, const toml::node& node, std::vector<Axis>& axes) {
    Axis a;
    a.section = section;
    a.key = key;
    a.label = role + "." + key;
    a.pos = ctx.pos(node);
    const toml::node* body = directive_body(ctx, a, d, node);
    if (!body) return;
    const toml::array* arr = body->as_array();
    if (!arr) return ctx.err(*body, a.label + ": " + a.directive + " takes an array");
    const std::string& dir = a.directive;
    bool ok = dir == "grid" || dir == "choice"         ? list_values(ctx, a, *arr, *body)
              : dir == "range"                         ? range(ctx, a, *arr, *body)
              : dir == "linspace" || dir == "logspace" ? spaced(ctx, a, *arr, *body)
                                                       : random_draw(ctx, a, *arr, *body);
    if (!ok) return;
    if (a.random() && !a.zip.empty()) return ctx.err(node, a.label + ": zip applies to grid-like directives only");
    axes.push_back(std::move(a));
}

Value Axis::value(size_t k) const {
    switch (gen) {
    case Gen::List:
        return values[k];
    case Gen::Range: {
        double x = start + double(k) * step;
        return ints ? Value::of_int(int64_t(std::llround(x))) : Value::of_float(x);
    }
    case Gen::Linspace:
    case Gen::Logspace: {
        if (k == 0) return Value::of_float(lo); // exact endpoints: 0.01 stays 0.01
        if (k + 1 == count) return Value::of_float(hi);
        double t = double(k) / double(count - 1);
        if (gen == Gen::Linspace) return Value::of_float(lo + t * (hi - lo));
        return Value::of_float(std::pow(10.0, std::log10(lo) + t * (std::log10(hi) - std::log10(lo))));
    }
    }
    return {};
}

} // namespace iclr
