// `iclr report SWEEP`: one self-contained HTML page (or a Markdown summary) of a sweep's results:
// provenance, statuses, claims with verdicts and a figure each, declared or default figures, the
// sweep's saved queries and its failures. Several sweeps: cli/report_several.cpp.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "cli/claim_check.hpp"
#include "cli/commands.hpp"
#include "cli/flat_table.hpp"
#include "cli/report_sweep.hpp"
#include "cli/sweep_runs.hpp"
#include "cli/table.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "report/figures.hpp"
#include "report/gather.hpp"
#include "store/query.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// Each claim as `iclr verify` computes it (not recorded), with its rows drawn.
std::vector<report::ClaimResult> claim_results(Store& store, const SweepSpec& spec,
                                               const std::optional<std::set<int64_t>>& current,
                                               const std::string& sweep, const std::set<int64_t>& at_other_seeds) {
    std::vector<report::ClaimResult> out;
    for (const auto& [c, rs] : run_queries(store, spec)) {
        ClaimVerdict cv = evaluate_claim(store, *c, rs, current, sweep, at_other_seeds);
        const claims::Verdict& v = cv.verdict;
        const ResultSet& rows = cv.rows;
        report::ClaimResult r{c->name, c->kind, c->source, claims::to_string(v.outcome), v.reason, v.n, {}, {}, {}, {}};
        r.note = cv.note;
        std::string caption = r.verdict;
        if (v.outcome != claims::Outcome::NoData) {
            r.estimate = v.estimate;
            r.ci_low = v.ci_low;
            r.ci_high = v.ci_high;
            caption = v.reason + " " + four_digits(v.estimate) + ", 95% CI [" + four_digits(v.ci_low) + ", " +
                      four_digits(v.ci_high) + "] over " + std::to_string(v.n) + " seeds: " + r.verdict;
        }
        if (!rows.rows.empty()) r.figure = report::claim_figure(*c, rows, caption);
        out.push_back(std::move(r));
    }
    return out;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw UserError("iclr report: cannot read " + p.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

// Written beside itself and renamed into place, so a full disk leaves no half page behind.
void write_text(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::filesystem::remove(tmp);
            throw UserError("iclr report: cannot write " + path + " (disk full, or no permission?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw UserError("iclr report: cannot write " + path + ": " + ec.message());
}

// The Vega builds: $ICLR_VEGA_DIR, else share/iclr/vega beside bin/ (the build tree and an install
// have the same layout; the build fetches them from npm).
report::Scripts vega_scripts() {
    const char* env = std::getenv("ICLR_VEGA_DIR");
    std::filesystem::path dir = env && *env
                                    ? std::filesystem::path(env)
                                    : std::filesystem::path(exe_dir()).parent_path() / "share" / "iclr" / "vega";
    std::error_code ec;
    if (!std::filesystem::exists(dir / "vega-embed.min.js", ec))
        throw UserError("iclr report: the Vega scripts are not in " + dir.string() +
                        " (the build fetches them with npm: rerun `make build`, or set ICLR_VEGA_DIR)");
    return {slurp(dir / "vega.min.js"), slurp(dir / "vega-lite.min.js"), slurp(dir / "vega-embed.min.js")};
}

std::optional<SweepReport> gather_sweep(const ReportOptions& o, const SweepSpec& spec, std::string* unrun) {
    std::string db_path = o.common.db_path();
    std::error_code ec;
    if (!std::filesystem::exists(db_path, ec))
        throw UserError(db_path + ": no such database (run the sweep first, or pass --db)");
    auto store = Store::open_read(db_path);
    SweepReport out;
    OtherSeeds other_seeds;
    auto current = share_sweep_runs(*store, o.sweep, o.variant, &out.planned, &other_seeds);
    const bool none_ran = current && current->empty();
    if (unrun && none_ran) {
        *unrun = unrun_reason(*store, db_path, spec.name, o.variant);
        return std::nullopt;
    }
    report::Report& r = out.report;
    r = report::gather(*store, spec, db_path, current);
    // The trials as written that no run has reached the database yet: a report over part of a sweep
    // says so in its status table, as verify does in its note.
    out.unrecorded = current && out.planned > current->size() ? out.planned - current->size() : 0;
    if (out.unrecorded) {
        r.statuses.rows.rows.push_back({"not recorded", std::to_string(out.unrecorded)});
        r.statuses.rows.is_null.push_back({false, false});
        r.statuses.rows.is_number.push_back({false, true});
    }
    if (none_ran) // run with --profile ci, reported without it?
        if (std::string note = other_variants_note(*store, spec.name, o.variant, "report"); !note.empty())
            r.statuses.note = char(std::toupper(static_cast<unsigned char>(note[0]))) + note.substr(1) + ".";
    r.claims = claim_results(*store, spec, current, o.sweep, other_seeds.ids);
    if (!spec.claims.empty()) r.claims_notes = claims_notes(*store, o.sweep, spec);
    if (std::string note = other_seeds_note(other_seeds); !note.empty() && !spec.claims.empty())
        r.claims_notes.push_back(note);
    r.runs_csv_command = "iclr table " + shell_word(o.sweep) + o.variant.flags() + " --format csv";
    r.runs_csv = render(run_query(*store, flat_table_sql(*store, o.sweep, o.variant, {}), true), Format::Csv);
    r.runs_csv_bytes = r.runs_csv.size();
    if (r.runs_csv_bytes > report::Report::kMaxEmbeddedCsv) r.runs_csv.clear();
    return out;
}

std::filesystem::path default_page(const ReportOptions& o, const SweepSpec& spec) {
    return ResultsLayout(o.common.db_path()).reports_dir() / (spec.name + o.variant.tag() + ".html");
}

std::filesystem::path out_page(const std::string& out, const std::string& file_name) {
    std::error_code ec;
    bool folder = out.ends_with('/') || std::filesystem::is_directory(out, ec);
    return folder ? std::filesystem::path(out) / file_name : std::filesystem::path(out);
}

size_t write_page(const SweepReport& s, const std::filesystem::path& html, const report::Scripts& js) {
    const report::Report& r = s.report;
    std::string page = report::render_html(r, js);
    std::error_code ec;
    if (html.has_parent_path()) std::filesystem::create_directories(html.parent_path(), ec);
    write_text(html.string(), page);
    fmt::print("{}: {} runs{}, {} claims, {} figures, {:.0f} KiB\n", html.string(), r.runs,
               s.unrecorded ? fmt::format(" (of {} trial(s) as written)", s.planned) : "", r.claims.size(),
               r.figures.size() + size_t(std::count_if(r.claims.begin(), r.claims.end(),
                                                       [](const auto& c) { return c.figure.has_value(); })),
               double(page.size()) / 1024.0);
    return page.size();
}

std::string report_format(const ReportOptions& o) {
    std::string format = o.format == "markdown" ? "md" : o.format;
    if (format != "html" && format != "md") throw UserError("iclr report: --format is html or md");
    return format;
}

int cmd_report(const ReportOptions& o) {
    if (o.sweeps.size() > 1) return report_several(o);
    ReportOptions one = o;
    one.sweep = o.sweeps.empty() ? o.sweep : o.sweeps.front();
    std::string format = report_format(one);
    SweepSpec spec = parse_arms(one.sweep, one.variant).front();
    SweepReport s = *gather_sweep(one, spec);
    std::filesystem::path page = default_page(one, spec);
    std::filesystem::path html = one.out.empty() || format == "md" ? page : out_page(one.out, page.filename());
    if (format == "md" && !one.html.empty()) html = one.html;
    if (format == "md") {
        std::string md = report::render_markdown(s.report, html.string());
        if (one.out.empty())
            fmt::print("{}", md);
        else
            write_text(one.out, md);
        return 0;
    }
    write_page(s, html, vega_scripts());
    return 0;
}

} // namespace iclr
