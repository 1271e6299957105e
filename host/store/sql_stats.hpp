// Statistics as SQL aggregates (stdev, ci95_low, median, spearman, ...) and trial_config(), for
// every connection iclr opens and, as the loadable extension iclr_stats.so, for the sqlite3 shell
// and Python.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

namespace iclr::stats {

// Registers every function on one connection (the aggregates, and trial_config(config_toml): a
// run's config without its plugins' versions); returns SQLITE_OK or the first error code.
int register_functions(sqlite3* db);
// Their names, as a query calls them.
std::vector<std::string> function_names();

// The numbers behind the functions, unit-tested against published values.
double mean(const std::vector<double>& x);
double variance(const std::vector<double>& x);    // sample variance (n - 1); NaN when n < 2
double quantile(std::vector<double> x, double p); // linear interpolation between order statistics
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y); // ties get average ranks
std::vector<double> ranks(const std::vector<double>& x);                     // 1-based, ties averaged
// The p-quantile of Student's t distribution with df degrees of freedom (df > 0).
double student_t_quantile(double p, double df);
// The p-quantile of the Beta(a, b) distribution (a, b > 0): Clopper-Pearson's binomial bounds.
double beta_quantile(double p, double a, double b);

} // namespace iclr::stats
