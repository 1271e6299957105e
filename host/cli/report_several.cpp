// `iclr report` over several sweep files: each one's page, then an index page linking them with
// every claim's verdict (or, with --format md, each one's summary in turn).
#include <map>

#include <fmt/core.h>

#include "cli/report_sweep.hpp"
#include "cli/several.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "store/sqlite_util.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// The sweeps' pages as they are written, and what the index will say of each.
class IndexedReports {
  public:
    IndexedReports(const ReportOptions& o, std::string format) : o_(o), format_(std::move(format)) {
        std::string name = "index" + o.variant.tag() + ".html";
        index_ = o.out.empty() ? ResultsLayout(o.common.db_path()).reports_dir() / name : out_page(o.out, name);
        pages_[index_] = "the index";
        if (format_ == "html") js_ = vega_scripts();
        x_ = {o.common.db_path(), now_iso(), o.variant.flags(), {}, {}};
    }

    // One sweep's page (or summary) beside the index; a UserError when it cannot be read, its
    // plots fail, or its page would overwrite another's (two files with the same [sweep] name).
    void add(const std::string& sweep) {
        SweepSpec spec = parse_arms(sweep, o_.variant).front();
        std::filesystem::path page = index_.parent_path() / default_page(o_, spec).filename();
        if (auto at = pages_.find(page); at != pages_.end())
            throw UserError(sweep + ": its page " + page.string() + " would overwrite " + at->second +
                            (at->second == "the index" ? "" : "'s (the same [sweep] name)") +
                            ": report it alone, with --out");
        ReportOptions one = o_;
        one.sweep = sweep;
        std::string unrun;
        std::optional<SweepReport> s = gather_sweep(one, spec, &unrun);
        if (!s) return skip(sweep, unrun);
        pages_.emplace(page, sweep);
        if (format_ == "md")
            fmt::print("{}{}", x_.entries.empty() ? "" : "\n", report::render_markdown(s->report, page.string()));
        else
            write_page(*s, page, *js_);
        const report::Report& r = s->report;
        x_.entries.push_back({r.sweep_name, r.description, r.sweep_file, page.filename().string(), r.runs, r.claims,
                              r.claims_notes, s->planned, s->unrecorded});
        for (auto& c : x_.entries.back().claims)
            c.figure.reset(); // the index draws none
    }

    void skip(const std::string& sweep, const std::string& why) { why_[why].push_back(sweep); }

    // The index written (html), then the sweeps passed over on stderr.
    void finish() {
        x_.passed_over = passed_over(why_);
        if (format_ == "html") {
            std::string page = report::render_index(x_);
            std::error_code ec;
            if (index_.has_parent_path()) std::filesystem::create_directories(index_.parent_path(), ec);
            write_text(index_.string(), page);
            fmt::print("{}: {} sweep(s) reported, {:.0f} KiB\n", index_.string(), x_.entries.size(),
                       double(page.size()) / 1024.0);
        }
        std::fflush(stdout);
        for (const std::string& line : x_.passed_over)
            fmt::print(stderr, "iclr report: note: {}\n", line);
    }

  private:
    const ReportOptions& o_;
    std::string format_;
    std::filesystem::path index_;
    std::optional<report::Scripts> js_;
    report::Index x_;
    std::map<std::string, std::vector<std::string>> why_; // reason -> sweeps passed over
    std::map<std::filesystem::path, std::string> pages_;  // page -> what was written to it
};

} // namespace

// Several sweeps: one that cannot be read (or whose claims or plots fail) says so, file:line:col,
// and the others go on (exit 2 at the end); one none of whose trials has run in the database gets
// no page.
int report_several(const ReportOptions& o) {
    std::string format = report_format(o);
    if (!o.html.empty()) throw UserError("iclr report: --html takes one sweep: report them one at a time");
    if (format == "md" && !o.out.empty())
        throw UserError("iclr report: --format md with several sweeps prints to stdout (redirect it to a file)");
    std::error_code ec;
    if (!std::filesystem::exists(o.common.db_path(), ec)) // once, not an error per sweep
        throw UserError(o.common.db_path() + ": no such database (run the sweeps first, or pass --db)");
    IndexedReports reports(o, format);
    bool failed = false;
    for (const std::string& sweep : o.sweeps) {
        try {
            reports.add(sweep);
            continue;
        } catch (const UserError& e) { // a sweep's diagnostics, a plot's bad query: the others go on
            print_error(e);
        }
        reports.skip(sweep, "which gave an error (above)");
        failed = true;
    }
    reports.finish();
    return failed ? 2 : 0;
}

} // namespace iclr
