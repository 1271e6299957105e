// `iclr verify SWEEP`: runs each [[claim]]'s query, computes its verdict, prints and records it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/core.h>

#include "claims/evaluate.hpp"
#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "cli/git_state.hpp"
#include "cli/sweep_runs.hpp"
#include "cli/table.hpp"
#include "cli/verdict_compare.hpp"
#include "cli/verify_sweep.hpp"
#include "common/build_info.hpp"
#include "common/file_hash.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "common/values.hpp"
#include "plugin/plugin_registry.hpp"
#include "store/query.hpp"
#include "store/run_lock.hpp"
#include "store/sqlite_util.hpp"
#include "store/verdicts.hpp"
#include "sweep/sweep.hpp"
#include "sweep/sweep_arms.hpp"
#include "sweep/trial.hpp"

namespace iclr {
namespace {

// "held", or "no data (the reason)".
std::string verdict_cell(const claims::Verdict& v) {
    std::string what = claims::to_string(v.outcome);
    return v.outcome == claims::Outcome::NoData ? what + " (" + v.reason + ")" : what;
}

} // namespace

ResultSet verdict_table(const std::vector<ClaimVerdict>& verdicts) {
    ResultSet out;
    out.columns = {"claim", "kind", "n", "estimate", "95% CI", "verdict", "source"};
    for (const auto& [c, v, note, ids, rows] : verdicts) {
        bool data = v.outcome != claims::Outcome::NoData;
        out.rows.push_back({c->name, c->kind, std::to_string(v.n), data ? four_digits(v.estimate) : "-",
                            data ? "[" + four_digits(v.ci_low) + ", " + four_digits(v.ci_high) + "]" : "-",
                            verdict_cell(v), c->source});
        out.is_null.emplace_back(out.columns.size(), false);
        out.is_number.push_back({false, false, true, data, false, false, false});
    }
    return out;
}

// What a script reads: the verdicts table's columns and names (estimate, ci_low and ci_high as
// numbers in full, null without data; the verdict and its reason apart) and each claim's notes,
// which the table prints to stderr.
ResultSet verdict_records(const std::vector<ClaimVerdict>& verdicts) {
    ResultSet out;
    out.columns = {"claim", "kind", "n", "estimate", "ci_low", "ci_high", "verdict", "reason", "source", "notes"};
    for (const auto& [c, v, note, ids, rows] : verdicts) {
        bool data = v.outcome != claims::Outcome::NoData;
        std::vector<std::string> row = {c->name, c->kind, std::to_string(v.n)};
        std::vector<bool> null = {false, false, false};
        for (double x : {v.estimate, v.ci_low, v.ci_high}) {
            null.push_back(!data || !std::isfinite(x));
            row.push_back(null.back() ? "" : float_text(x));
        }
        row.insert(row.end(), {claims::to_string(v.outcome), v.reason, c->source, note});
        null.insert(null.end(), {false, v.reason.empty(), c->source.empty(), note.empty()});
        out.rows.push_back(std::move(row));
        out.is_null.push_back(std::move(null));
        out.is_number.push_back({false, false, true, true, true, true, false, false, false, false});
    }
    return out;
}

namespace {

// Notes go to stderr, one line per claim; with the table, a no-data reason the cell cuts goes too.
void print_notes(const VerifyOptions& o, const std::vector<ClaimVerdict>& verdicts, Format f) {
    for (const auto& cv : verdicts)
        if (!cv.note.empty()) fmt::print(stderr, "{}claim '{}': {}\n", note_head(o), cv.claim->name, cv.note);
    if (f == Format::Table) // the table cuts a long verdict cell; its no-data reason in full
        for (const auto& cv : verdicts)
            if (cv.verdict.outcome == claims::Outcome::NoData && verdict_cell(cv.verdict).size() > RowWriter::kMaxCell)
                fmt::print(stderr, "iclr verify: {}claim '{}': no data: {}\n", sweep_prefix(o), cv.claim->name,
                           cv.verdict.reason);
}

// --claim: the claims whose name contains the text; none is an error that lists them all.
std::vector<Checked> selected(std::vector<Checked> checked, const std::string& text) {
    if (text.empty()) return checked;
    std::vector<Checked> out;
    std::string names;
    for (auto& c : checked) {
        names += (names.empty() ? "'" : ", '") + c.claim->name + "'";
        if (c.claim->name.find(text) != std::string::npos) out.push_back(std::move(c));
    }
    if (out.empty()) throw UserError("--claim '" + text + "': no claim's name contains it (claims: " + names + ")");
    return out;
}

// --rows: the rows each verdict was computed from, as the query returned them (other runs' rows
// left out, as for the verdict), so a surprising verdict can be traced to its runs.
void print_rows(const std::vector<ClaimVerdict>& verdicts, Format f) {
    for (const auto& cv : verdicts)
        fmt::print("\nrows of claim '{}' ({}):\n{}", cv.claim->name, cv.rows.rows.size(), render(cv.rows, f));
}

// How many of the runs finished after `since` (an ISO time): run again on the same trials, by
// `iclr run --rerun-changed` or a resumed failure, which the trials' keys alone do not show.
size_t finished_since(Store& store, const std::vector<int64_t>& ids, const std::string& since) {
    Statement st(store.db(), "SELECT 1 FROM runs WHERE id = ? AND finished_at > ?");
    size_t n = 0;
    for (int64_t id : std::set<int64_t>(ids.begin(), ids.end())) {
        st.bind(1, id).bind(2, since);
        n += st.step();
        st.reset();
    }
    return n;
}

// A verdict that differs from the one the last verify recorded for the same sweep and flags, said
// with what moved it: more or other runs, the claim's query, the same trials run again, or (on
// the same runs) iclr's build.
std::string verdict_change(Store& store, const PastVerdict& past, const VerdictRow& now, const std::string& runs_sha) {
    if (past.verdict == now.verdict) return "";
    // A verdict recorded before the schema-9 migration hashed the keys the runs had then.
    const bool same_runs = past.runs_sha256 == runs_sha ||
                           (now.has_run_ids && runs_hash(store, now.run_ids, true).sha256 == past.runs_sha256);
    const size_t rerun = past.sql == now.sql && same_runs ? finished_since(store, now.run_ids, past.created_at) : 0;
    std::string why = past.sql != now.sql ? "its query has changed since"
                      : !same_runs        ? fmt::format("over other runs (n {} then)", past.n)
                      : rerun > 0 ? fmt::format("over the same trials, {} of whose runs were run again since", rerun)
                      : past.iclr_version != std::string(iclr_build())
                          ? "on the same runs, by iclr " + past.iclr_version
                          : "on the same runs";
    return fmt::format("the verdict was {} at the last verify ({}), {}", past.verdict, past.created_at, why);
}

// One claim's verdict (evaluate_claim), recorded in the database as a copy of `recorded` (the
// sweep's file, hash, git commit and flags: the same for every claim) with the claim's fields; its
// note says too how the verdict changed since the last verify.
ClaimVerdict verdict_of(Store& store, const ClaimSpec& c, const ResultSet& rs,
                        const std::optional<std::set<int64_t>>& current, const std::string& sweep,
                        const std::set<int64_t>& at_other_seeds, VerdictRow recorded) {
    ClaimVerdict cv = evaluate_claim(store, c, rs, current, sweep, at_other_seeds);
    const claims::Verdict& v = cv.verdict;
    bool data = v.outcome != claims::Outcome::NoData;
    recorded.claim = c.name;
    recorded.source = c.source;
    recorded.kind = c.kind;
    recorded.sql = c.sql;
    recorded.n = v.n;
    if (data) {
        recorded.estimate = v.estimate;
        recorded.ci_low = v.ci_low;
        recorded.ci_high = v.ci_high;
    }
    recorded.verdict = claims::to_string(v.outcome);
    recorded.reason = v.reason;
    recorded.run_ids = cv.run_ids;
    recorded.has_run_ids = names_runs(rs);
    auto past = last_verdict(store, recorded.sweep_file, recorded.variant, c.name);
    std::string runs_sha = record_verdict(store, recorded);
    if (past) add_note(cv.note, verdict_change(store, *past, recorded, runs_sha));
    return cv;
}

// Verdicts over part of a sweep, or over none of it (another database, a sweep not yet run) read
// like verdicts over all of it: how many of its trials are done here is said on stderr.
// Returns whether every trial is done (--strict certifies no verdict over part of a sweep).
bool note_trials_done(const VerifyOptions& o, size_t done, size_t planned) {
    if (done >= planned) return true;
    // What brings the rest: the command, or the run already writing to the database.
    std::string how = "`iclr run " + shell_word(o.sweep) + o.variant.flags() + o.common.db_flag() + "` runs ";
    std::string holder = RunLock::holder(o.common.db_path());
    std::string db = o.common.db_path();
    if (done == 0)
        fmt::print(stderr, "iclr verify: note: none of the {} trial(s) of {} as written is done in {} ({})\n", planned,
                   o.sweep, db, holder.empty() ? how + "them" : "a run is writing to it now: " + holder);
    else
        fmt::print(stderr,
                   "iclr verify: note: {} of the {} trial(s) of {} as written are done in {}; the verdicts use "
                   "those ({})\n",
                   done, planned, o.sweep, db,
                   holder.empty() ? how + "the rest" : "a run is writing to it now: " + holder);
    if (o.strict)
        fmt::print(stderr, "iclr verify: --strict: not every trial is done, so exit 1 whatever the verdicts\n");
    return false;
}

size_t trials_done(Store& store) {
    ResultSet rs = run_query(store,
                             "SELECT COUNT(*) FROM runs r JOIN sweep_runs s ON s.id = r.id WHERE r.status "
                             "IN ('done', 'diverged')",
                             true);
    return rs.rows.empty() ? 0 : size_t(std::strtoull(rs.rows[0][0].c_str(), nullptr, 10));
}

// The heading a sweep's verdicts get when several sweeps are verified at once.
void print_heading(const VerifyOptions& o, Format f, bool first) {
    if (f == Format::Markdown)
        fmt::print("{}### `{}`{}\n\n", first ? "" : "\n", o.sweep, o.variant.flags());
    else
        fmt::print("{}{}{}:\n", first ? "" : "\n", o.sweep, o.variant.flags());
    std::fflush(stdout); // before the sweep's notes on stderr, which --against prints as it computes
}

// What every claim's row in the verdicts table shares (the commit: one git process per command).
VerdictRow recorded_row(const VerifyOptions& o, const SweepSpec& spec) {
    VerdictRow recorded;
    recorded.sweep_file = absolute_path(o.sweep);
    recorded.sweep_sha256 = sha256_hex(spec.source_text);
    recorded.git_commit = source_commit();
    recorded.variant = o.variant.arguments();
    return recorded;
}

// The verdicts as a table, or beside --against's (returns how many differ there), then their notes.
size_t print_verdicts(Store& store, const VerifyOptions& o, Format f, const SweepSpec& spec,
                      const std::vector<ClaimVerdict>& verdicts, size_t planned, ResultSet* all) {
    const bool for_scripts = o.against.empty() && (f == Format::Json || f == Format::Csv);
    const auto table = [&] { return for_scripts ? verdict_records(verdicts) : verdict_table(verdicts); };
    size_t differ = 0;
    if (all)
        append_with_sweep(*all, table(), o.sweep);
    else if (o.against.empty())
        fmt::print("{}", render(table(), f));
    else
        differ = compare_verdicts(store, o, spec, verdicts, planned, f);
    std::fflush(stdout); // the notes below follow the table they are about
    print_notes(o, verdicts, f);
    return differ;
}

} // namespace

std::string sweep_prefix(const VerifyOptions& o) { return o.sweeps.size() > 1 ? o.sweep + ": " : ""; }

std::string note_head(const VerifyOptions& o) { return "iclr verify: note: " + sweep_prefix(o); }

void check_databases(const VerifyOptions& o) {
    std::string db_path = o.common.db_path();
    std::error_code ec;
    if (!std::filesystem::exists(db_path, ec))
        throw UserError(db_path + ": no such database (run the sweep first, or pass --db)");
    if (!o.against.empty() && !std::filesystem::exists(o.against, ec)) // before a verdict is recorded
        throw UserError("--against " + o.against + ": no such database");
}

// One sweep's verdicts: computed, recorded, printed (after a heading when `several`), its notes
// on stderr. With several sweeps, one that no trial of has run in this database, or none of whose
// claims --claim names, is skipped and says why in the summary instead.
SweepTally verify_sweep(const VerifyOptions& o, Several* several) {
    SweepTally tally;
    tally.sweep = o.sweep;
    std::vector<SweepSpec> arms = parse_arms(o.sweep, o.variant); // claims are the sweep's, whatever its arms
    const SweepSpec& spec = arms.front();
    Format f = parse_format(o.format);
    if (spec.claims.empty()) {
        if (!several) fmt::print("{} states no claims ([[claim]] tables)\n", o.sweep);
        tally.skipped = "which state no claims";
        return tally;
    }
    tally.named = std::any_of(spec.claims.begin(), spec.claims.end(),
                              [&](const ClaimSpec& c) { return c.name.find(o.claim) != std::string::npos; });
    if (several && !tally.named) { // alone, selected() below says which claims there are
        tally.skipped = "none of whose claims' names contains '" + o.claim + "'";
        return tally;
    }
    check_databases(o);
    auto store = Store::open_write(o.common.db_path());
    OtherSeeds other_seeds;
    auto current = share_sweep_runs(*store, o.sweep, o.variant, &tally.planned, &other_seeds);
    tally.done = current ? trials_done(*store) : 0;
    if (several && current && current->empty()) {
        tally.skipped = unrun_reason(*store, o.common.db_path(), spec.name, o.variant);
        tally.exit = o.strict ? 1 : 0;
        return tally;
    }
    std::vector<Checked> checked = selected(run_queries(*store, spec), o.claim);
    if (several && !several->all) print_heading(o, f, several->first);
    VerdictRow recorded = recorded_row(o, spec);
    std::vector<ClaimVerdict> verdicts;
    for (const auto& [c, rs] : checked)
        verdicts.push_back(verdict_of(*store, *c, rs, current, o.sweep, other_seeds.ids, recorded));
    size_t differ = print_verdicts(*store, o, f, spec, verdicts, tally.planned, several ? several->all : nullptr);
    if (several) several->first = false;
    bool complete = !current || note_trials_done(o, tally.done, tally.planned);
    if (current && tally.done == 0) // run with --profile ci, verified without it, say
        if (std::string note = other_variants_note(*store, spec.name, o.variant, "verify"); !note.empty())
            fmt::print(stderr, "{}{}\n", note_head(o), note);
    if (std::string note = other_seeds_note(other_seeds); !note.empty())
        fmt::print(stderr, "{}{}\n", note_head(o), note);
    for (const std::string& note : claims_notes(*store, o.sweep, spec))
        fmt::print(stderr, "{}{}\n", note_head(o), note);
    if (o.rows && o.against.empty()) print_rows(verdicts, f); // with --against, compare_verdicts pairs them
    bool all_held = true;
    for (const ClaimVerdict& cv : verdicts) {
        ++tally.outcomes[size_t(cv.verdict.outcome)];
        all_held = all_held && cv.verdict.outcome == claims::Outcome::Held;
    }
    tally.exit = (o.strict && !(all_held && complete)) || differ > 0 ? 1 : 0;
    return tally;
}

int cmd_verify(const VerifyOptions& o) {
    Format f = parse_format(o.format);
    if (o.rows && f != Format::Table && f != Format::Markdown)
        throw UserError("--rows prints a table per claim: use it with --format table or markdown");
    if (o.sweeps.size() > 1) {
        check_databases(o);
        return verify_several(o);
    }
    VerifyOptions one = o;
    one.sweep = o.sweeps.empty() ? o.sweep : o.sweeps.front();
    return verify_sweep(one, nullptr).exit;
}

} // namespace iclr
