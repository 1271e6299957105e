// `iclr table SWEEP`: the sweep's trials as one flat table, a row per run, its parameters and final metrics as columns.
#include <cstdio>

#include <fmt/core.h>

#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "cli/flat_table.hpp"
#include "cli/several.hpp"
#include "cli/sweep_runs.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "store/query.hpp"
#include "store/store.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// Said on stderr, so that a CSV on stdout stays a CSV: metrics per task left out, trials missing.
void print_notes(Store& store, bool per_task, size_t recorded, size_t planned, const std::string& sweep,
                 const std::string& db) {
    if (!per_task) {
        ResultSet rs = run_query(store,
                                 "SELECT f.key || ' (' || COUNT(DISTINCT f.task) || ' task(s))' FROM final_metrics f "
                                 "JOIN sweep_runs s ON s.id = f.run_id WHERE f.task IS NOT NULL GROUP BY f.key "
                                 "ORDER BY f.key",
                                 true);
        std::string keys;
        for (const auto& row : rs.rows)
            keys += (keys.empty() ? "" : ", ") + row[0];
        if (!keys.empty())
            fmt::print(stderr, "iclr table: note: metrics per task left out (--per-task: a column per task): {}\n",
                       keys);
    }
    if (recorded < planned)
        fmt::print(stderr, "iclr table: note: {} of the {} trial(s) of {} as written are in {} (`iclr status {}`)\n",
                   recorded, planned, sweep, db, sweep);
}

// Each sweep's table in turn, under its file's name; a sweep that cannot be read says why and the
// others go on (exit 2).
int table_several(const TableOptions& o) {
    Format f = parse_format(o.format);
    if (f != Format::Table && f != Format::Markdown)
        throw UserError("iclr table takes one sweep file with --format " + o.format +
                        " (its columns are one sweep's): give one, or --format table or markdown");
    return each_sweep(o.sweeps, [&](const std::string& file) {
        TableOptions one = o;
        one.sweeps = {file};
        fmt::print("{}:\n{}", file, f == Format::Markdown ? "\n" : "");
        std::fflush(stdout); // before the notes on stderr
        return cmd_table(one);
    });
}

} // namespace

int cmd_table(const TableOptions& o) {
    if (o.sweeps.size() > 1) return table_several(o);
    const std::string& sweep = o.sweeps.front(); // the command line requires one
    auto store = Store::open_read(o.common.db_path());
    size_t planned = 0;
    OtherSeeds other_seeds;
    share_sweep_runs(*store, sweep, o.variant, &planned, &other_seeds); // every run if it cannot be planned
    int rc = print_query(*store, flat_table_sql(*store, sweep, o.variant, {o.all_params, o.per_task}), o.format);
    size_t recorded = sweep_run_count(*store);
    print_notes(*store, o.per_task, recorded, planned, sweep, o.common.db_path());
    if (recorded == 0 && planned > 0) // run with --profile ci, tabled without it?
        if (std::string note = other_variants_note(*store, parse_arms(sweep, o.variant).front().name, o.variant, "see");
            !note.empty())
            fmt::print(stderr, "iclr table: note: {}\n", note);
    if (std::string note = other_seeds_note(other_seeds); !note.empty())
        fmt::print(stderr, "iclr table: note: {}\n", note);
    return rc;
}

} // namespace iclr
