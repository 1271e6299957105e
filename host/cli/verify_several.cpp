// `iclr verify` over several sweep files: each one's verdicts, then a row per sweep verified.
#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/core.h>

#include "cli/several.hpp"
#include "cli/table.hpp"
#include "cli/verify_sweep.hpp"
#include "common/errors.hpp"

namespace iclr {
namespace {

// After several sweeps' verdicts: a row per sweep verified, its verdicts counted and how many of
// its trials are done here (not after json or csv: a script counts); the sweeps passed over are
// named on stderr, a line per reason, so a glob over every sweep file does not bury the few run
// into this database.
void print_summary(const std::vector<SweepTally>& tallies, Format f, bool table) {
    ResultSet out;
    out.columns = {"sweep", "held", "not held", "inconclusive", "no data", "trials done"};
    std::map<std::string, std::vector<std::string>> skipped; // reason -> sweeps
    for (const SweepTally& t : tallies) {
        if (!t.skipped.empty()) {
            skipped[t.skipped].push_back(t.sweep);
            continue;
        }
        out.rows.push_back({t.sweep});
        for (size_t n : t.outcomes)
            out.rows.back().push_back(std::to_string(n));
        out.rows.back().push_back(t.planned ? fmt::format("{} of {}", t.done, t.planned) : "-");
        out.is_null.emplace_back(out.columns.size(), false);
        out.is_number.push_back({false, true, true, true, true, false});
    }
    if (table && !out.rows.empty())
        fmt::print("{}{}", f == Format::Markdown ? "\n### all sweeps\n\n" : "\nall sweeps:\n", render(out, f));
    std::fflush(stdout);
    for (const std::string& line : passed_over(skipped))
        fmt::print(stderr, "iclr verify: note: {}\n", line);
}

} // namespace

// One sweep's verdict table appended to several sweeps' (its first column the sweep file).
void append_with_sweep(ResultSet& all, const ResultSet& one, const std::string& sweep) {
    if (all.columns.empty()) {
        all.columns = one.columns;
        all.columns.insert(all.columns.begin(), "sweep");
    }
    for (size_t i = 0; i < one.rows.size(); ++i) {
        all.rows.push_back(one.rows[i]);
        all.rows.back().insert(all.rows.back().begin(), sweep);
        all.is_null.push_back(one.is_null[i]);
        all.is_null.back().insert(all.is_null.back().begin(), false);
        all.is_number.push_back(one.is_number[i]);
        all.is_number.back().insert(all.is_number.back().begin(), false);
    }
}

// Several sweeps at once: a sweep that cannot be read (or whose claims fail) says so, file:line:col,
// and the others go on; the exit status is 2 if one gave an error, else 1 if one's would be. Json
// and csv print every sweep's verdicts as one table, a sweep column first, for a script to read.
int verify_several(const VerifyOptions& o) {
    Format f = parse_format(o.format);
    bool one_table = f == Format::Json || f == Format::Csv;
    if (one_table && !o.against.empty())
        throw UserError("--against with --format " + o.format + " takes one sweep: verify them one at a time");
    ResultSet all;
    Several several{true, one_table ? &all : nullptr};
    std::vector<SweepTally> tallies;
    bool failed = false;
    for (const std::string& sweep : o.sweeps) {
        VerifyOptions one = o;
        one.sweep = sweep;
        try {
            tallies.push_back(verify_sweep(one, &several));
            continue;
        } catch (const UserError& e) { // a sweep's diagnostics, a claim's bad query: the others go on
            print_error(e);
        }
        tallies.push_back({sweep, {}, 0, 0, "which gave an error (above)", false, 2});
        failed = true;
    }
    if (!o.claim.empty() && std::none_of(tallies.begin(), tallies.end(), [](const SweepTally& t) { return t.named; }))
        throw UserError("--claim '" + o.claim + "': no claim of these sweeps has a name that contains it");
    if (one_table) {
        if (all.columns.empty()) append_with_sweep(all, verdict_records({}), ""); // none verified: a header
        fmt::print("{}", render(all, f));
    }
    print_summary(tallies, f, !one_table);
    int exit = 0;
    for (const SweepTally& t : tallies)
        exit = std::max(exit, t.exit);
    return failed ? 2 : exit;
}

} // namespace iclr
