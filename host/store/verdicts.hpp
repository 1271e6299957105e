// Recording claim verdicts: one row per claim per `iclr verify`, with what it was computed from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace iclr {

struct VerdictRow {
    std::string sweep_file, sweep_sha256, claim, source, kind, sql;
    int64_t n = 0;
    std::optional<double> estimate, ci_low, ci_high; // none for "no data"
    std::string verdict, reason;
    std::vector<int64_t> run_ids; // the runs its rows name (runs_of_row); empty when none does
    bool has_run_ids = false;
    std::string git_commit;
    std::string variant; // the flags, as SweepVariant::arguments() writes them
};

// Inserts the verdict (in its own transaction); the runs it names are hashed by their keys
// (runs_hash). Returns that hash ("" when its rows name no run).
std::string record_verdict(Store& store, const VerdictRow& v);

// How many distinct runs these ids name, and the SHA-256 of their keys, sorted, one per line: what
// verdicts.runs_sha256 holds. With `before_rekey`, a run the schema-9 migration gave a new key is
// hashed by its old one (rekeyed_runs): the hash a verdict recorded before the migration has.
struct RunsHash {
    int64_t count = 0;
    std::string sha256;
};
RunsHash runs_hash(Store& store, const std::vector<int64_t>& ids, bool before_rekey = false);

// What a claim's verdict was the last time `iclr verify` recorded it for this sweep file and these
// flags; nullopt if never.
struct PastVerdict {
    std::string verdict, created_at, runs_sha256, iclr_version, sql;
    int64_t n = 0;
};
std::optional<PastVerdict> last_verdict(Store& store, const std::string& sweep_file, const std::string& variant,
                                        const std::string& claim);

} // namespace iclr
