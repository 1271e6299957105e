// Vega-Lite specs for `iclr report`: a declared [[plot]], a claim's rows, a learning curve; points
// that share x (and colour, facet) are aggregated to a mean and its 95% interval before embedding.
#pragma once

#include <string>

#include "report/report.hpp"
#include "sweep/claim.hpp"
#include "sweep/plot.hpp"

namespace iclr::report {

// Rows sharing (x, color, facet) as one: columns x, color, facet, mean, lo, hi, n, where lo/hi
// are mean -/+ t(0.975, n - 1) * sd / sqrt(n) (equal to the mean when n = 1). Rows whose y is not a
// number are skipped. Order: first appearance.
ResultSet aggregate(const ResultSet& rows, const std::string& x, const std::string& y, const std::string& color,
                    const std::string& facet);

// Points already aggregated (columns as aggregate() makes them) drawn with p's titles, mark, axes.
Figure aggregated_figure(const PlotSpec& p, const ResultSet& agg);
// An empty aggregate (the columns aggregate() makes), and one point appended to it: the mean of n
// values with sample variance var and its 95% t-interval (the mean itself when n < 2).
ResultSet aggregated();
void add_point(ResultSet& agg, const std::string& x, bool x_number, const std::string& color, const std::string& facet,
               double n, double mean, double var);

// A declared plot: the aggregate (error_bars) or every row, as a line / point / bar chart, or a
// heatmap of the mean of its color column per (x, y) cell.
Figure plot_figure(const PlotSpec& p, const ResultSet& rows);
// A claim's rows: each seed's value as a point and the mean with its 95% interval per group or x;
// a rule at the threshold or target; the verdict in the caption.
Figure claim_figure(const ClaimSpec& c, const ResultSet& rows, const std::string& caption);

} // namespace iclr::report
