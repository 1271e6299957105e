// Claim statistics: the estimate on all data, a 95% CI from a bootstrap over seeds (the wider of
// Student's t with the bootstrap's standard error and the bootstrap's percentiles, and for a claim
// on 0/1 events at least the exact binomial interval), and the verdict from which side of zero (or
// of the threshold / tolerance band) the CI lies.
#include "claims/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "common/values.hpp"
#include "store/sql_stats.hpp"

namespace iclr::claims {
namespace {

constexpr uint64_t kBootstrapSeed = 20220425; // fixed: the same database gives the same output

using Units = std::map<std::string, std::vector<const Row*>>; // seed -> its rows

Units units_of(const std::vector<Row>& rows) {
    Units u;
    for (size_t i = 0; i < rows.size(); ++i)
        u[rows[i].seed ? *rows[i].seed : "row " + std::to_string(i)].push_back(&rows[i]);
    return u;
}

// Half the 95% interval: t(0.975, n - 1) standard errors, the standard error being the bootstrap
// replicates' sd times sqrt(n / (n - 1)) (for a mean that is s / sqrt(n): the t interval). Why not
// the replicates' 2.5 and 97.5 percentiles alone: over n seeds they cannot reach past the seeds'
// own range, so at n = 3 any three seeds pointing the same way decided the verdict, which happens 1
// time in 4 with no effect at all (tests/unit/claims_test.cpp measures it).
double t_half_width(const std::vector<double>& replicates, int64_t n) {
    // Deviations from the first replicate, so that identical replicates (a statistic every resample
    // gives alike) have a standard error of exactly 0, not a rounding residue.
    double sum = 0, ss = 0, b = double(replicates.size());
    for (double r : replicates) {
        sum += r - replicates[0];
        ss += (r - replicates[0]) * (r - replicates[0]);
    }
    double var = std::max(0.0, (ss - sum * sum / b) / (b - 1));
    double se = std::sqrt(var) * std::sqrt(double(n) / double(n - 1));
    return stats::student_t_quantile(0.975, double(n - 1)) * se;
}

// statistic(units) on the data, and on kBootstrapSamples resamples of the units with replacement.
template <class F> Verdict bootstrap(const Units& units, F statistic, const std::string& what) {
    Verdict v;
    v.n = int64_t(units.size());
    std::vector<const std::vector<const Row*>*> all;
    for (const auto& [seed, rs] : units)
        all.push_back(&rs);
    v.estimate = statistic(all);
    std::mt19937_64 rng(kBootstrapSeed);
    std::uniform_int_distribution<size_t> pick(0, all.size() - 1);
    std::vector<double> stats;
    std::vector<const std::vector<const Row*>*> sample(all.size());
    for (int b = 0; b < kBootstrapSamples; ++b) {
        for (auto& s : sample)
            s = all[pick(rng)];
        double s = statistic(sample);
        if (std::isfinite(s)) stats.push_back(s);
    }
    if (!std::isfinite(v.estimate) || stats.size() < size_t(kBootstrapSamples) / 2) {
        v.reason = "the statistic is undefined on the data or most resamples (" + what + ")";
        return v; // outcome stays NoData
    }
    // The wider of the two intervals: t's for few seeds, the percentiles' where the replicates are
    // skewed (a Spearman rho near 1 has its long tail below).
    double half = t_half_width(stats, v.n);
    v.ci_low = std::min(v.estimate - half, stats::quantile(stats, 0.025));
    v.ci_high = std::max(v.estimate + half, stats::quantile(stats, 0.975));
    v.reason = what;
    v.outcome = Outcome::Inconclusive; // until the kind decides
    return v;
}

double mean_of(const std::vector<const std::vector<const Row*>*>& sample, const std::string* group) {
    double sum = 0;
    int64_t n = 0;
    for (const auto* rs : sample)
        for (const Row* r : *rs)
            if (!group || (r->group && *r->group == *group)) {
                sum += r->value;
                ++n;
            }
    return n ? sum / double(n) : NAN;
}

double rho_of(const std::vector<const std::vector<const Row*>*>& sample) {
    std::vector<double> x, y;
    for (const auto* rs : sample)
        for (const Row* r : *rs) {
            x.push_back(*r->x);
            y.push_back(r->value);
        }
    return stats::spearman(x, y);
}

// Held when the whole CI is on the claimed side of `at`, not held when it is all on the other.
Outcome side(const Verdict& v, double at, bool claim_below) {
    bool below = v.ci_high<at, above = v.ci_low> at;
    if (claim_below) return below ? Outcome::Held : above ? Outcome::NotHeld : Outcome::Inconclusive;
    return above ? Outcome::Held : below ? Outcome::NotHeld : Outcome::Inconclusive;
}

// The kinds that claim a value below their decision point (less, decreasing, at_most); the others
// (greater, increasing, at_least) claim one above it, and about claims a band.
bool claims_below(const std::string& kind) { return kind == "less" || kind == "decreasing" || kind == "at_most"; }

Verdict no_data(std::string why, int64_t n = 0) {
    Verdict v;
    v.n = n;
    v.reason = std::move(why);
    return v;
}

// A claim on 0/1 events (did a run collapse): k ones among n rows.
struct Count {
    int64_t k = 0, n = 0;
};

// The rows of `group` (every row when null) as a count; none, with *why, when a value is not 0 or 1
// or a unit has two of them (rows of one seed are not independent events).
std::optional<Count> binary_count(const Units& units, const std::string* group, std::string* why) {
    Count c;
    for (const auto& [unit, rs] : units) {
        int64_t in_unit = 0;
        for (const Row* r : rs) {
            if (group && !(r->group && *r->group == *group)) continue;
            if (r->value != 0 && r->value != 1) {
                *why = "binary = true, but a value is " + six_digits(r->value) + ": each run's value must be 0 or 1";
                return std::nullopt;
            }
            if (++in_unit > 1) {
                *why = "binary = true, but seed " + unit + " has several rows" + (group ? " of " + *group : "") +
                       ": one event per seed" + (group ? " and group" : "");
                return std::nullopt;
            }
            c.k += r->value == 1;
            ++c.n;
        }
    }
    return c;
}

// Clopper-Pearson's exact 95% interval for a rate from k of n.
std::pair<double, double> exact_rate_interval(Count c) {
    double lo = c.k == 0 ? 0.0 : stats::beta_quantile(0.025, double(c.k), double(c.n - c.k + 1));
    double hi = c.k == c.n ? 1.0 : stats::beta_quantile(0.975, double(c.k + 1), double(c.n - c.k));
    return {lo, hi};
}

// binary = true. On 0/1 events the bootstrap is far too sure where every seed agrees: ten seeds
// without a collapse resample to [0, 0], though a collapse rate of 0.3 gives ten without one 3% of
// the time. So the interval is widened to cover the exact one: Clopper-Pearson's for a rate; for a
// difference of two rates, Newcombe's square-and-add of the two (it ignores the seeds' pairing,
// which for runs that agree seed by seed makes it wider, not narrower). Declared, not guessed from
// the values: an accuracy of 1.0 in every seed is a score that saturates, not an event. Returns why
// the rows are not such events ("" when they are).
std::string widen_for_counts(Verdict& v, const Units& units, const Hypothesis& t, bool groups) {
    auto of = [](Count c) { return std::to_string(c.k) + " of " + std::to_string(c.n); };
    std::pair<double, double> exact;
    std::string what, why;
    if (!groups) {
        auto c = binary_count(units, nullptr, &why);
        if (!c) return why;
        exact = exact_rate_interval(*c);
        what = of(*c) + " are 1): the interval covers Clopper-Pearson's exact one for a rate";
    } else {
        auto a = binary_count(units, &t.a, &why), b = a ? binary_count(units, &t.b, &why) : std::nullopt;
        if (!a || !b) return why;
        auto [la, ua] = exact_rate_interval(*a);
        auto [lb, ub] = exact_rate_interval(*b);
        double pa = double(a->k) / double(a->n), pb = double(b->k) / double(b->n), d = pa - pb;
        exact = {d - std::hypot(pa - la, ub - pb), d + std::hypot(ua - pa, pb - lb)};
        what = t.a + ": " + of(*a) + ", " + t.b + ": " + of(*b) +
               "): the interval covers Newcombe's for a difference of two rates (from Clopper-Pearson's)";
    }
    if (exact.first >= v.ci_low && exact.second <= v.ci_high) return ""; // the bootstrap's is wider already
    v.ci_low = std::min(v.ci_low, exact.first);
    v.ci_high = std::max(v.ci_high, exact.second);
    v.exact = "0/1 events (" + what + ", as seeds that agree give the bootstrap no spread to go on";
    return "";
}

Verdict compare_groups(const Hypothesis& t, const std::vector<Row>& rows, const Units& units) {
    for (const std::string* g : {&t.a, &t.b})
        if (std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return r.group && *r.group == *g; }))
            return no_data("no rows for group '" + *g + "' (the query's grp or arm column)");
    // Paired by seed: a resample keeps each seed's rows of both groups together.
    return bootstrap(
        units, [&](const auto& s) { return mean_of(s, &t.a) - mean_of(s, &t.b); },
        "mean(" + t.a + ") - mean(" + t.b + ")");
}

// Where the verdict turns, on the side the estimate lies: 0 for a comparison or a trend, the
// threshold, or the tolerance band's edge nearest the estimate (already relative to the target).
double decision_point(const Hypothesis& t, const Verdict& v) {
    if (t.kind == "at_most" || t.kind == "at_least") return *t.threshold;
    if (t.kind == "about") return v.estimate >= 0 ? *t.tolerance : -*t.tolerance;
    return 0;
}

// An inconclusive verdict's interval spans the decision point. Its half-width on that side scales
// as t(0.975, n - 1) / sqrt(n) with the number of seeds n if the seeds' spread stays the same (a
// mean's t interval exactly; a bootstrapped rho roughly): the fewest seeds whose half-width falls
// short of the estimate's distance to the point decide it, the interval then lying on one side.
int64_t seeds_to_decide(const Hypothesis& t, const Verdict& v) {
    double at = decision_point(t, v), gap = std::abs(v.estimate - at);
    double half = v.estimate >= at ? v.estimate - v.ci_low : v.ci_high - v.estimate;
    if (!(gap > 0) || !(half > 0) || v.n < 2) return 0;
    auto scale = [](int64_t n) { return stats::student_t_quantile(0.975, double(n - 1)) / std::sqrt(double(n)); };
    double target = gap / half * scale(v.n); // decided where scale(n) < target; scale falls as n grows
    if (scale(kMaxProjectedSeeds) >= target) return -1;
    int64_t lo = v.n, hi = v.n + 1; // scale(lo) >= target > scale(hi), by doubling then halving
    while (scale(hi) >= target) {
        lo = hi;
        hi = std::min(kMaxProjectedSeeds, 2 * hi);
    }
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        (scale(mid) < target ? hi : lo) = mid;
    }
    return hi;
}

// Every unit gave the point p where the verdict turns (a count of zero against at_most 0, two arms
// tied to the last bit; `alike`: the bootstrap's interval was [p, p]). Held needs the interval
// strictly on the claimed side, so such data never decide it; said, since an interval [0, 0]
// called inconclusive otherwise reads like a fault.
std::string on_point(const Hypothesis& t, const Verdict& v, bool alike, bool seeds) {
    if (!alike || v.estimate != decision_point(t, v)) return "";
    return "every one of the " + std::to_string(v.n) + (seeds ? " seeds" : " rows") + " gave exactly " +
           six_digits(v.estimate) + ", the value where the verdict turns: " + t.kind +
           " holds only with its interval strictly " + (claims_below(t.kind) ? "below" : "above") + " it, so more " +
           (seeds ? "seeds" : "rows") + " alike would not decide it";
}

} // namespace

const char* to_string(Outcome o) {
    switch (o) {
    case Outcome::Held:
        return "held";
    case Outcome::NotHeld:
        return "not held";
    case Outcome::Inconclusive:
        return "inconclusive";
    case Outcome::NoData:
        return "no data";
    }
    return "?";
}

Verdict evaluate(const Hypothesis& t, const std::vector<Row>& rows) {
    if (rows.empty()) return no_data("the query returned no rows");
    Units units = units_of(rows);
    if (units.size() < 2) // one unit: rows of one seed, or one row where the query has no seed column
        return no_data(std::string(rows[0].seed ? "1 seed" : "1 row") + "; a CI needs 2 or more", 1);
    Verdict v;
    const bool groups = t.kind == "less" || t.kind == "greater" || (t.kind == "about" && !t.a.empty());
    const bool trend = t.kind == "increasing" || t.kind == "decreasing";
    if (groups) {
        v = compare_groups(t, rows, units);
    } else if (trend) {
        if (std::any_of(rows.begin(), rows.end(), [](const Row& r) { return !r.x; }))
            return no_data("kind " + t.kind + " needs an x column");
        v = bootstrap(units, rho_of, "Spearman rho of (x, value)");
        v.ci_low = std::max(v.ci_low, -1.0); // rho's range
        v.ci_high = std::min(v.ci_high, 1.0);
    } else {
        v = bootstrap(
            units, [](const auto& s) { return mean_of(s, nullptr); }, "mean(value)");
    }
    if (v.outcome == Outcome::NoData) return v;
    const bool alike = v.ci_low == v.ci_high; // every resample gave the estimate
    if (t.binary && !trend)
        if (std::string why = widen_for_counts(v, units, t, groups); !why.empty()) return no_data(why, v.n);
    if (t.kind == "about" && !groups) {
        v.estimate -= *t.target;
        v.ci_low -= *t.target;
        v.ci_high -= *t.target;
        v.reason = "mean(value) - target";
    }
    if (t.kind == "about") {
        double tol = *t.tolerance;
        bool inside = v.ci_low >= -tol && v.ci_high <= tol, outside = v.ci_low > tol || v.ci_high < -tol;
        v.outcome = inside ? Outcome::Held : outside ? Outcome::NotHeld : Outcome::Inconclusive;
    } else {
        v.outcome = side(v, decision_point(t, v), claims_below(t.kind));
    }
    if (v.outcome == Outcome::Inconclusive) v.on_point = on_point(t, v, alike, rows[0].seed.has_value());
    // On the point, the gap to it is 0 and seeds_to_decide projects nothing.
    if (v.outcome == Outcome::Inconclusive && rows[0].seed) v.seeds_to_decide = seeds_to_decide(t, v);
    return v;
}

std::string inconclusive_note(const Verdict& v) {
    if (!v.on_point.empty()) return v.on_point;
    if (v.seeds_to_decide == 0) return "";
    if (v.seeds_to_decide < 0)
        return "more than " + std::to_string(kMaxProjectedSeeds) +
               " seeds would decide it at the estimate and spread of " + std::to_string(v.n) +
               ": any effect is small next to the seeds' spread";
    return "about " + std::to_string(v.seeds_to_decide) + " seeds would decide it, not " + std::to_string(v.n) +
           ", if the estimate and the seeds' spread stayed as measured (a projection; adding seeds until a verdict "
           "turns makes a wrong verdict likelier than 1 in 20)";
}

} // namespace iclr::claims
