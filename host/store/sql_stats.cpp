// SQL statistics aggregates (values are collected per group, then reduced in the final step), and
// trial_config().
#include "store/sql_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "common/trial_config.hpp"
#include "store/sqlite_util.hpp"

namespace iclr::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The continued fraction of the incomplete beta function (modified Lentz, as in Numerical Recipes).
double beta_fraction(double a, double b, double x) {
    constexpr double kTiny = 1e-300, kEps = 1e-15;
    auto guard = [](double v) { return std::fabs(v) < kTiny ? kTiny : v; };
    double c = 1.0, d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0)), h = d;
    for (int m = 1; m <= 300; ++m) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2)); // even step
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2)); // odd step
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        double del = d * c;
        h *= del;
        if (std::fabs(del - 1.0) < kEps) break;
    }
    return h;
}

// I_x(a, b), the regularised incomplete beta function.
double incomplete_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double front =
        std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(1.0 - x));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
    return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

double student_t_cdf(double t, double df) {
    double tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    return t >= 0 ? 1.0 - tail : tail;
}

// The x in [lo, hi] where the rising cdf reaches p, by bisection until the bracket is no wider
// than relative * hi + absolute.
template <class Cdf> double inverse(Cdf cdf, double p, double lo, double hi, double relative, double absolute) {
    for (int i = 0; i < 200 && hi - lo > relative * hi + absolute; ++i) {
        double mid = (lo + hi) / 2;
        (cdf(mid) < p ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
}

// ---- SQLite glue: one vector of values (or pairs) per group --------------------------------
struct Samples {
    std::vector<double> x, y;
    double p = kNaN; // quantile's second argument
};

Samples* samples(sqlite3_context* ctx, bool create) {
    auto** slot = static_cast<Samples**>(sqlite3_aggregate_context(ctx, create ? sizeof(Samples*) : 0));
    if (!slot) return nullptr;
    if (!*slot && create) *slot = new Samples();
    return *slot;
}

void step_one(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    Samples* s = samples(ctx, true);
    if (!s) return sqlite3_result_error_nomem(ctx);
    if (argc == 2 && sqlite3_value_type(argv[1]) != SQLITE_NULL) s->p = sqlite3_value_double(argv[1]);
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) s->x.push_back(sqlite3_value_double(argv[0]));
}

void step_pair(sqlite3_context* ctx, int, sqlite3_value** argv) {
    Samples* s = samples(ctx, true);
    if (!s) return sqlite3_result_error_nomem(ctx);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) return;
    s->x.push_back(sqlite3_value_double(argv[0]));
    s->y.push_back(sqlite3_value_double(argv[1]));
}

void result(sqlite3_context* ctx, double v) {
    if (std::isnan(v))
        sqlite3_result_null(ctx); // not enough data: NULL, never 0
    else
        sqlite3_result_double(ctx, v);
}

double ci95(const std::vector<double>& x, double sign) {
    if (x.size() < 2) return kNaN;
    double n = double(x.size());
    return mean(x) + sign * student_t_quantile(0.975, n - 1.0) * std::sqrt(variance(x) / n);
}

template <double (*F)(const Samples&)> void final_fn(sqlite3_context* ctx) {
    Samples* s = samples(ctx, false);
    result(ctx, s ? F(*s) : kNaN);
    delete s;
}

double f_variance(const Samples& s) { return variance(s.x); }
double f_stdev(const Samples& s) { return std::sqrt(variance(s.x)); }
double f_sem(const Samples& s) { return s.x.size() < 2 ? kNaN : std::sqrt(variance(s.x) / double(s.x.size())); }
double f_ci_low(const Samples& s) { return ci95(s.x, -1.0); }
double f_ci_high(const Samples& s) { return ci95(s.x, 1.0); }
double f_median(const Samples& s) { return quantile(s.x, 0.5); }
double f_quantile(const Samples& s) { return quantile(s.x, s.p); }
double f_pearson(const Samples& s) { return pearson(s.x, s.y); }
double f_spearman(const Samples& s) { return spearman(s.x, s.y); }

} // namespace

double mean(const std::vector<double>& x) {
    return x.empty() ? kNaN : std::accumulate(x.begin(), x.end(), 0.0) / double(x.size());
}

double variance(const std::vector<double>& x) {
    if (x.size() < 2) return kNaN;
    double m = mean(x), ss = 0;
    for (double v : x)
        ss += (v - m) * (v - m);
    return ss / double(x.size() - 1);
}

double quantile(std::vector<double> x, double p) {
    if (x.empty() || !(p >= 0 && p <= 1)) return kNaN;
    std::sort(x.begin(), x.end());
    double h = p * double(x.size() - 1);
    size_t lo = size_t(std::floor(h));
    size_t hi = std::min(lo + 1, x.size() - 1);
    return x[lo] + (h - double(lo)) * (x[hi] - x[lo]);
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() < 2 || x.size() != y.size()) return kNaN;
    double mx = mean(x), my = mean(y), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) return kNaN; // a constant has no correlation
    return sxy / std::sqrt(sxx * syy);
}

std::vector<double> ranks(const std::vector<double>& x) {
    std::vector<size_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::vector<double> r(x.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]])
            ++j;
        double avg = (double(i) + double(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k)
            r[order[k]] = avg;
        i = j + 1;
    }
    return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size()) return kNaN;
    return pearson(ranks(x), ranks(y));
}

double student_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
    if (p < 0.5) return -student_t_quantile(1.0 - p, df);
    double hi = 1;
    while (student_t_cdf(hi, df) < p)
        hi *= 2;
    return inverse([df](double t) { return student_t_cdf(t, df); }, p, 0, hi, 1e-13, 0);
}

double beta_quantile(double p, double a, double b) {
    if (!(p > 0 && p < 1) || !(a > 0) || !(b > 0)) return kNaN;
    // I_x(a, b) rises from 0 to 1 over [0, 1].
    return inverse([a, b](double x) { return incomplete_beta(a, b, x); }, p, 0, 1, 0, 1e-15);
}

namespace {

struct Fn {
    const char* name;
    int argc;
    void (*step)(sqlite3_context*, int, sqlite3_value**);
    void (*final)(sqlite3_context*);
};
const Fn kFunctions[] = {
    {"variance", 1, step_one, final_fn<f_variance>}, {"stdev", 1, step_one, final_fn<f_stdev>},
    {"sem", 1, step_one, final_fn<f_sem>},           {"ci95_low", 1, step_one, final_fn<f_ci_low>},
    {"ci95_high", 1, step_one, final_fn<f_ci_high>}, {"median", 1, step_one, final_fn<f_median>},
    {"quantile", 2, step_one, final_fn<f_quantile>}, {"pearson", 2, step_pair, final_fn<f_pearson>},
    {"spearman", 2, step_pair, final_fn<f_spearman>}};
constexpr const char* kTrialConfig = "trial_config"; // a scalar function, registered apart

} // namespace

std::vector<std::string> function_names() {
    std::vector<std::string> out;
    for (const Fn& f : kFunctions)
        out.push_back(f.name);
    out.push_back(kTrialConfig);
    return out;
}

int register_functions(sqlite3* db) {
    for (const Fn& f : kFunctions) {
        int rc = sqlite3_create_function_v2(db, f.name, f.argc, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, nullptr,
                                            f.step, f.final, nullptr);
        if (rc != SQLITE_OK) return rc;
    }
    // trial_config(config_toml): a run's config without its plugins' versions, so that SQL can join the
    // runs of one trial made with other plugin versions (other keys). NULL for NULL.
    return sqlite3_create_function_v2(db, kTrialConfig, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                      sql_text_function<config_without_versions>, nullptr, nullptr, nullptr);
}

} // namespace iclr::stats
