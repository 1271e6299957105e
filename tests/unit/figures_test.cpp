// The report's Vega-Lite specs: a scale whose values are all one number gets a domain around it.
#include <gtest/gtest.h>

#include "report/figures.hpp"

using namespace iclr;

namespace {

// Rows of a claim's query: run_id, seed, x, value (all numbers).
ResultSet claim_rows(const std::vector<std::pair<std::string, std::string>>& x_value) {
    ResultSet rs;
    rs.columns = {"run_id", "seed", "x", "value"};
    for (size_t i = 0; i < x_value.size(); ++i) {
        rs.rows.push_back({std::to_string(i + 1), "0", x_value[i].first, x_value[i].second});
        rs.is_null.emplace_back(4, false);
        rs.is_number.emplace_back(4, true);
    }
    return rs;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

// One run (a ci profile's one width, one seed): Vega-Lite's own domain for it has no width, which
// labelled the ticks 0.020000000000000014 and drew the point outside the plot.
TEST(Figures, AClaimOfOnePointGetsADomainAroundItOnBothAxes) {
    ClaimSpec c;
    c.name = "forgets less as it grows";
    c.kind = "decreasing";
    // The mean of the one value is printed "0.02", the value as the query gave it: one number.
    std::string spec = report::claim_figure(c, claim_rows({{"26176", "0.020000000000000018"}}), "").spec_json;
    EXPECT_TRUE(has(spec, "\"domain\": [23558.4, 28793.6]")) << spec;
    EXPECT_TRUE(has(spec, "\"domain\": [0.018, 0.022]}, \"axis\": {\"tickCount\": 4}")) << spec; // not dense
    // Two widths and two values: Vega-Lite's own domains.
    spec = report::claim_figure(c, claim_rows({{"26176", "0.02"}, {"80000", "0.01"}}), "").spec_json;
    EXPECT_FALSE(has(spec, "\"domain\"")) << spec;
    EXPECT_FALSE(has(spec, "tickCount")) << spec;
    // A threshold other than the values widens the y scale by itself.
    c.kind = "at_most";
    c.threshold = 0.05;
    spec = report::claim_figure(c, claim_rows({{"26176", "0.02"}}), "").spec_json;
    EXPECT_FALSE(has(spec, "\"domain\"")) << spec;
    // A value of 0 gets [-1, 1].
    c.threshold.reset();
    spec = report::claim_figure(c, claim_rows({{"26176", "0"}}), "").spec_json;
    EXPECT_TRUE(has(spec, "\"domain\": [-1, 1]")) << spec;
    // And so do values that are 0 but for rounding.
    spec = report::claim_figure(c, claim_rows({{"26176", "0"}, {"26176", "1e-17"}}), "").spec_json;
    EXPECT_TRUE(has(spec, "\"domain\": [-1, 1]")) << spec;
}

TEST(Figures, APlotOfOnePointGetsADomainOnALogAxisToo) {
    PlotSpec p;
    p.title = "forgetting vs parameters";
    p.x = "params";
    p.y = "forgetting";
    p.x_log = true;
    ResultSet agg = report::aggregated();
    report::add_point(agg, "26176", true, "", "", 1, 0.02, 0);
    std::string spec = report::aggregated_figure(p, agg).spec_json;
    EXPECT_TRUE(has(spec, "{\"type\": \"log\", \"domain\": [13088, 52352]}")) << spec;
    EXPECT_TRUE(has(spec, "{\"zero\": false, \"domain\": [0.018, 0.022]}")) << spec;
    report::add_point(agg, "80000", true, "", "", 3, 0.01, 1e-4);
    spec = report::aggregated_figure(p, agg).spec_json;
    EXPECT_FALSE(has(spec, "\"domain\"")) << spec;
}
