// A sweep's claim and plot queries tried on an empty database before any trial of it runs.
#include "cli/query_check.hpp"

#include "cli/claim_check.hpp"
#include "cli/sweep_runs.hpp"
#include "report/gather.hpp"
#include "store/store.hpp"

namespace iclr {

void check_queries(const SweepSpec& spec) {
    if (spec.claims.empty() && spec.plots.empty()) return;
    auto store = Store::open_empty();
    empty_sweep_runs(*store);
    std::vector<Diagnostic> diags;
    try {
        run_queries(*store, spec);
    } catch (const SweepError& e) {
        diags = e.diagnostics;
    }
    for (const PlotSpec& p : spec.plots) {
        try {
            report::plot_rows(*store, p, std::nullopt);
        } catch (const SweepError& e) {
            diags.insert(diags.end(), e.diagnostics.begin(), e.diagnostics.end());
        }
    }
    if (!diags.empty()) throw SweepError(diags);
}

} // namespace iclr
