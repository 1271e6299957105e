// `iclr report`'s model of a sweep's results and its two renderings: one self-contained HTML page
// (Vega-Lite figures, data inlined as JSON) and a Markdown summary; and the index of several.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/result_set.hpp"

namespace iclr::report {

// One figure: a Vega-Lite spec with its data inlined; `marks` is how many data points it draws.
struct Figure {
    std::string title, caption, spec_json;
    int64_t points = 0;
};

struct ClaimResult {
    std::string name, kind, source, verdict, reason;
    int64_t n = 0;
    std::optional<double> estimate, ci_low, ci_high;
    std::optional<Figure> figure; // absent when the query returned no rows
    // What verify notes of it too (cli/claim_check.hpp: its runs mixed CPU kernel sets, a per-task
    // metric pooled), "; "-joined; "" when nothing. Set after the aggregate initialisation, hence
    // the default member initialiser.
    std::string note{};
};

struct Table {
    std::string title, note;
    ResultSet rows;
};

struct Report {
    std::string sweep_name, description, sweep_file, db_path, generated_at;
    std::string flags; // the variant as command-line flags: " --profile ci --set 'method.lr=0.1'", or ""
    Table provenance;  // commit, plugins, hosts, dates
    Table statuses;    // status, runs
    std::vector<ClaimResult> claims;
    // Sentences under the claims (claim_check's notes): diverged trials the claims have no value
    // from, runs whose runs.arm is another sweep's while a claim's own SQL reads it.
    std::vector<std::string> claims_notes;
    std::vector<Figure> figures; // declared [[plot]]s, else the defaults
    bool default_figures = false;
    std::vector<Table> queries; // the sweep's saved queries
    Table failures;             // failed / timed-out / diverged runs: error and log tail
    int64_t runs = 0;
    // The runs as `iclr table` writes them (`runs_csv_command`), embedded as a download so the page
    // alone carries its data; "" when over kMaxEmbeddedCsv (the page then gives the command).
    std::string runs_csv, runs_csv_command;
    size_t runs_csv_bytes = 0; // the CSV's size, embedded or not
    static constexpr size_t kMaxEmbeddedCsv = 2 << 20;
};

// The three Vega builds, inlined in order: vega, vega-lite, vega-embed.
struct Scripts {
    std::string vega, vega_lite, vega_embed;
};

// `iclr report` over several sweeps: an entry per sweep reported, linking its page.
struct IndexEntry {
    std::string sweep_name, description, sweep_file;
    std::string page; // its page's file name: the pages sit beside the index
    int64_t runs = 0;
    std::vector<ClaimResult> claims; // as on its page, without the figures
    std::vector<std::string> claims_notes;
    size_t planned = 0, unrecorded = 0; // its trials as written, and those no run has reached yet
};

struct Index {
    std::string db_path, generated_at, flags; // flags: the variant, as on each page
    std::vector<IndexEntry> entries;
    std::vector<std::string> passed_over; // a sentence per reason, naming the sweeps not reported
};

std::string render_html(const Report& r, const Scripts& js);
// The index of several sweeps' pages: a row per sweep (its verdicts counted), then each sweep's
// claims as its page shows them; no script, so it opens anywhere.
std::string render_index(const Index& x);
// Tables and verdicts in Markdown, figures listed by title, linking to the HTML page.
std::string render_markdown(const Report& r, const std::string& html_link);

// JSON text of a result set's rows as an array of objects (numbers bare, NULL as null).
std::string json_rows(const ResultSet& rs);

} // namespace iclr::report
