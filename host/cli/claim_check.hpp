// What `iclr verify` and `iclr report` share: each [[claim]]'s query run and checked, the runs
// that are trials of the sweep as written, and a claim's rows as numbers for the bootstrap.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "claims/evaluate.hpp"
#include "cli/sweep_runs.hpp"
#include "common/values.hpp" // four_digits: how verify prints an estimate
#include "store/result_set.hpp"
#include "store/store.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

struct Checked {
    const ClaimSpec* claim;
    ResultSet rows;
};

// What verify prints and the report shows under the claims, as sentences (none when nothing
// applies): diverged trials of the sweep as written (sweep_runs), which count as finished but give
// the claims no value; runs of it whose runs.arm is not the arm this sweep gives them (another
// sweep recorded them under its own names) while a claim's or plot's own SQL reads an arm.
std::vector<std::string> claims_notes(Store& store, const std::string& sweep, const SweepSpec& spec);

// The index of the first of `names` among the result's columns, or -1.
int column(const ResultSet& rs, std::initializer_list<const char*> names);
// Every claim's SQL run and its columns checked; a SweepError lists every bad claim at its
// file:line:column, and nothing has been recorded.
std::vector<Checked> run_queries(Store& store, const SweepSpec& spec);
// A claim's rows as numbers; with `current`, rows of other runs (run_id, or base_run_id for a
// paired row) are left out and counted; the run ids used are appended to run_ids.
std::vector<claims::Row> rows_of(const ResultSet& rs, const std::optional<std::set<int64_t>>& current,
                                 std::vector<int64_t>& run_ids, size_t& left_out);
// What verify and the report note of a claim from the runs its rows name (run_ids) and its verdict:
// its runs were computed with more than one set of CPU kernels (runs.kernels), or by more than one
// build of iclr, or its per-task metric was named without task = N and the verdict pools the
// tasks, or (inconclusive) how many seeds would decide it; "; "-joined, "" when nothing.
std::string claim_notes(Store& store, const ClaimSpec& c, const std::vector<int64_t>& run_ids,
                        const claims::Verdict& v);
// Appends `note` to the "; "-joined `notes` (nothing when it is empty).
void add_note(std::string& notes, const std::string& note);
// Which builds of iclr made some runs, in the words verify's note and a resuming `iclr run` share:
// "3 by 0.1.0+abc; 2 by 0.1.0+def" ("" = a build not recorded).
std::string builds_in_words(const std::map<std::string, int64_t>& runs_by_build);
// For a claim written as keys whose metric (or attribute x) no finished run has: the reason in
// words, with the nearest key the runs have ("did you mean"); "" otherwise.
std::string missing_key_reason(Store& store, const ClaimSpec& c);
// What the claim tests, for claims::evaluate.
claims::Hypothesis hypothesis_of(const ClaimSpec& c);

// One claim's verdict from its query's rows, as verify and the report compute it (nothing recorded).
struct ClaimVerdict {
    const ClaimSpec* claim = nullptr;
    claims::Verdict verdict;      // a no-data one says why: no run of the sweep as written, a key no run has
    std::string note;             // "; "-joined: rows of other runs left out, then claim_notes
    std::vector<int64_t> run_ids; // the runs its rows name
    ResultSet rows;               // the rows it was computed from (rows of runs not in `current` left out)
};
// `current`: the runs that are trials of `sweep` as written (share_sweep_runs; nullopt = every run);
// `at_other_seeds`: finished runs of those trials at seeds the sweep does not plan (OtherSeeds::ids),
// which the note on the rows left out names apart from runs of other configs.
ClaimVerdict evaluate_claim(Store& store, const ClaimSpec& c, const ResultSet& rs,
                            const std::optional<std::set<int64_t>>& current, const std::string& sweep,
                            const std::set<int64_t>& at_other_seeds = {});

} // namespace iclr
