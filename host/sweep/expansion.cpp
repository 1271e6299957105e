// Index decoding and deterministic random draws (splitmix64 of sweep seed, sample and axis).
#include "sweep/expansion.hpp"

#include "common/values.hpp"
#include "sweep/exclude.hpp"

#include <cmath>
#include <map>

namespace iclr {
namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ULL;
    return h;
}

// A uniform double in [0, 1) that depends only on (sweep seed, sample, axis label).
double draw(uint64_t sweep_seed, uint64_t sample, const std::string& label) {
    uint64_t r = splitmix64(splitmix64(sweep_seed ^ fnv1a(label)) + sample);
    return double(r >> 11) * (1.0 / 9007199254740992.0);
}

} // namespace

Expansion::Expansion(const SweepSpec& spec) : spec_(spec) {
    std::map<std::string, int> zip_dim;
    for (const auto& a : spec.axes) {
        if (a.random()) {
            axis_dim_.push_back(-1);
            continue;
        }
        if (!a.zip.empty()) {
            auto it = zip_dim.find(a.zip);
            if (it != zip_dim.end()) {
                axis_dim_.push_back(it->second);
                continue;
            }
            zip_dim[a.zip] = int(dim_size_.size());
        }
        axis_dim_.push_back(int(dim_size_.size()));
        dim_size_.push_back(a.size());
    }
    samples_ = spec.samples > 0 ? uint64_t(spec.samples) : 1;
    // Overflow-checked product: a typo such as range = [0, 1e9] must be an error, not a wrap.
    uint64_t total = spec.seeds.size();
    auto too_many = [&] { throw SweepError({{{spec.file, 1, 1}, "the sweep has more than 2^63 trials"}}); };
    if (__builtin_mul_overflow(total, samples_, &total)) too_many();
    for (uint64_t d : dim_size_)
        if (__builtin_mul_overflow(total, d, &total) || total > uint64_t(INT64_MAX)) too_many();
    raw_count_ = uint64_t(total);
    // A condition on a label that is not swept can never hold, so its rule never matches (the
    // parser refuses such labels anyway).
    for (const auto& rule : spec.excludes) {
        std::vector<std::pair<size_t, const ExcludeRule::Cond*>> resolved;
        for (const auto& c : rule.conds)
            for (size_t k = 0; k < spec.axes.size(); ++k)
                if (spec.axes[k].label == c.label) {
                    resolved.emplace_back(k, &c);
                    break;
                }
        if (resolved.size() == rule.conds.size()) rules_.push_back(std::move(resolved));
    }
}

void Expansion::decode(uint64_t index, TrialPoint& p) const {
    p.index = index;
    uint64_t n_seeds = spec_.seeds.size();
    p.seed = spec_.seeds[index % n_seeds];
    uint64_t rest = index / n_seeds;
    uint64_t sample = rest % samples_;
    rest /= samples_;
    thread_local std::vector<uint64_t> coord;
    coord.assign(dim_size_.size(), 0);
    for (size_t d = dim_size_.size(); d-- > 0;) {
        coord[d] = rest % dim_size_[d];
        rest /= dim_size_[d];
    }
    p.axis_values.resize(spec_.axes.size());
    for (size_t k = 0; k < spec_.axes.size(); ++k) {
        const Axis& a = spec_.axes[k];
        if (!a.random()) {
            p.axis_values[k] = a.value(coord[size_t(axis_dim_[k])]);
            continue;
        }
        double u = draw(spec_.sweep_seed, sample, a.label);
        switch (a.kind) {
        case Axis::Kind::Choice:
            p.axis_values[k] = a.values[std::min(a.values.size() - 1, size_t(u * double(a.values.size())))];
            break;
        case Axis::Kind::Uniform:
            p.axis_values[k] = Value::of_float(a.lo + u * (a.hi - a.lo));
            break;
        case Axis::Kind::LogUniform:
            p.axis_values[k] = Value::of_float(std::exp(std::log(a.lo) + u * (std::log(a.hi) - std::log(a.lo))));
            break;
        case Axis::Kind::RandInt: {
            auto lo = int64_t(a.lo), hi = int64_t(a.hi);
            auto span = uint64_t(hi - lo) + 1;
            p.axis_values[k] = Value::of_int(lo + int64_t(std::min<uint64_t>(span - 1, uint64_t(u * double(span)))));
            break;
        }
        case Axis::Kind::Grid:
            break;
        }
    }
}

TrialPoint Expansion::at(uint64_t index) const {
    TrialPoint p;
    decode(index, p);
    return p;
}

bool Expansion::excluded(const TrialPoint& p) const {
    for (const auto& rule : rules_) {
        bool all = true;
        for (const auto& [axis, cond] : rule)
            if (!exclude_matches(p.axis_values[axis], cond->op, cond->value)) {
                all = false;
                break;
            }
        if (all) return true;
    }
    return false;
}

std::string describe_point(const SweepSpec& spec, const TrialPoint& p) {
    std::string s;
    for (size_t k = 0; k < spec.axes.size(); ++k)
        s += spec.axes[k].label + "=" + value_to_toml(p.axis_values[k]) + " ";
    return s + "seed=" + std::to_string(p.seed);
}

} // namespace iclr
