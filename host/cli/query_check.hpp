// A sweep's claim and plot queries tried on an empty database before any trial of it runs.
#pragma once

#include "sweep/sweep.hpp"

namespace iclr {

// Runs every [[claim]]'s and [[plot]]'s SQL on an empty database of the current schema (and an
// empty sweep_runs), so that a query that cannot run (a misspelt table, column or function, a
// syntax error) or lacks a column its claim or plot needs is a SweepError at its file:line:column,
// all of them at once, when the sweep is planned or run, not when `iclr verify` or `iclr report`
// reads its results hours later.
void check_queries(const SweepSpec& spec);

} // namespace iclr
