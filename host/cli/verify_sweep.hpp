// One sweep's `iclr verify` as a step of several (`iclr verify sweeps/*.toml`): its tally, its table.
#pragma once

#include <string>
#include <vector>

#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "store/result_set.hpp"

namespace iclr {

// What one sweep's verify came to, for the summary of several (`iclr verify sweeps/*.toml`).
struct SweepTally {
    std::string sweep;
    size_t outcomes[4] = {0, 0, 0, 0}; // by claims::Outcome: held, not held, inconclusive, no data
    size_t done = 0, planned = 0;
    std::string skipped; // why no verdict was computed; "" when they were
    bool named = false;  // it states a claim whose name contains --claim's text (any, without --claim)
    int exit = 0;
};

// How a sweep's verdicts print when several sweeps are verified at once.
struct Several {
    bool first = true;        // no sweep's verdicts printed yet
    ResultSet* all = nullptr; // json and csv: every sweep's verdicts as one table, with a sweep column
};

// verify_command.cpp: "FILE: " when several sweep files were given (o.sweep the one at hand), else
// "": a script reading stderr alone knows which sweep each line is about.
std::string sweep_prefix(const VerifyOptions& o);
// "iclr verify: note: " and sweep_prefix (the note that counts trials done names the sweep already).
std::string note_head(const VerifyOptions& o);
// verify_command.cpp: the verdicts as the table and Markdown print them (notes on stderr), and as a
// script reads them (json and csv: the verdicts table's columns, numbers in full, notes in a column).
ResultSet verdict_table(const std::vector<ClaimVerdict>& verdicts);
ResultSet verdict_records(const std::vector<ClaimVerdict>& verdicts);
// The database, and --against's, exist: before a verdict is recorded or a sweep is verified.
void check_databases(const VerifyOptions& o);
// One sweep's verdicts: computed, recorded, printed, notes on stderr; `several` is null for one sweep.
SweepTally verify_sweep(const VerifyOptions& o, Several* several);

// verify_several.cpp: one sweep's verdict table appended to several sweeps' (the sweep file first).
void append_with_sweep(ResultSet& all, const ResultSet& one, const std::string& sweep);
// Every sweep of o.sweeps verified, then a row per sweep; the exit status.
int verify_several(const VerifyOptions& o);

} // namespace iclr
