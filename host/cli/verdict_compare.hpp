// `iclr verify SWEEP --against OTHER.db`: each claim's verdict in two databases of one sweep, side by side.
#pragma once

#include <string>
#include <vector>

#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "store/store.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// `here`: the verdicts verify computed in its own database (`store`, sweep_runs filled), in the
// order of the claims it selected; `planned`: the sweep's trials as written. Computes the same claims in o.against
// (read only: nothing is recorded there), prints what each database's runs were computed with, a row per claim with
// both verdicts and what changed, a count, and with o.rows each claim's rows paired by trial
// (runs.key) with both values. Its notes go to stderr where they differ from this database's.
// Returns the number of verdicts that differ.
size_t compare_verdicts(Store& store, const VerifyOptions& o, const SweepSpec& spec,
                        const std::vector<ClaimVerdict>& here, size_t planned, Format f);

} // namespace iclr
