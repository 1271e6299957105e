// `iclr report` over several sweep files: each one's page, then an index page linking them with
// every claim's verdict (or, with --format md, each one's summary in turn).
#include <map>

#include <fmt/core.h>

#include "cli/report_sweep.hpp"
#include "common/errors.hpp"
#include "common/process.hpp"
#include "common/results_layout.hpp"
#include "store/sqlite_util.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {
namespace {

// Where the pages go: beside --out's index, else the database's reports folder.
std::filesystem::path index_path(const ReportOptions& o) {
    if (!o.out.empty()) return o.out;
    return ResultsLayout(o.common.db_path()).reports_dir() / ("index" + o.variant.tag() + ".html");
}

// The sweeps not reported, a sentence per reason (stderr, and the index's last section).
std::vector<std::string> passed_over_lines(const std::map<std::string, std::vector<std::string>>& why) {
    std::vector<std::string> out;
    for (const auto& [reason, sweeps] : why) {
        std::string names;
        for (const std::string& s : sweeps)
            names += (names.empty() ? "" : ", ") + s;
        out.push_back(fmt::format("{} sweep(s) passed over, {}: {}", sweeps.size(), reason, names));
    }
    return out;
}

// What the index shows of a sweep whose page was written.
report::IndexEntry entry_of(const report::Report& r, const std::filesystem::path& page) {
    report::IndexEntry e{r.sweep_name, r.description, r.sweep_file,  page.filename().string(),
                         r.runs,       r.claims,      r.claims_notes};
    for (auto& c : e.claims)
        c.figure.reset();
    return e;
}

} // namespace

// Several sweeps: one that cannot be read (or whose claims or plots fail) says so, file:line:col,
// and the others go on (exit 2 at the end); one none of whose trials has run in the database gets
// no page. Two sweeps whose pages would share a name (the same [sweep] name) are refused for the
// second: a page is never overwritten by another sweep's in the same command.
int report_several(const ReportOptions& o) {
    std::string format = report_format(o);
    if (!o.html.empty()) throw UserError("iclr report: --html takes one sweep: report them one at a time");
    if (format == "md" && !o.out.empty())
        throw UserError("iclr report: --format md with several sweeps prints to stdout (redirect it to a file)");
    std::error_code ec;
    if (!std::filesystem::exists(o.common.db_path(), ec)) // once, not an error per sweep
        throw UserError(o.common.db_path() + ": no such database (run the sweeps first, or pass --db)");
    std::filesystem::path index = index_path(o);
    std::optional<report::Scripts> js;
    if (format == "html") js = vega_scripts();
    report::Index x{o.common.db_path(), now_iso(), o.variant.flags(), {}, {}};
    std::map<std::string, std::vector<std::string>> why;
    std::map<std::filesystem::path, std::string> pages{{index, "the index"}}; // page -> what was written to it
    bool failed = false;
    for (const std::string& sweep : o.sweeps) {
        ReportOptions one = o;
        one.sweep = sweep;
        try {
            SweepSpec spec = parse_arms(sweep, o.variant).front();
            std::filesystem::path page = index.parent_path() / (spec.name + o.variant.tag() + ".html");
            if (auto at = pages.find(page); at != pages.end())
                throw UserError(sweep + ": its page " + page.string() + " would overwrite " + at->second +
                                (at->second == "the index" ? "" : "'s (the same [sweep] name)") +
                                ": report it alone, with --out");
            std::optional<SweepReport> s = gather_sweep(one, spec, true);
            if (!s) {
                why["none of whose trials has run in " + o.common.db_path()].push_back(sweep);
                continue;
            }
            pages.emplace(page, sweep);
            if (format == "md") {
                fmt::print("{}{}", x.entries.empty() ? "" : "\n", report::render_markdown(s->report, page.string()));
            } else {
                write_page(*s, page, *js);
            }
            x.entries.push_back(entry_of(s->report, page));
            continue;
        } catch (const UserError& e) { // a sweep's diagnostics, a plot's bad query: the others go on
            print_error(e);
        }
        why["which gave an error (above)"].push_back(sweep);
        failed = true;
    }
    x.passed_over = passed_over_lines(why);
    if (format == "html") {
        std::string page = report::render_index(x);
        if (index.has_parent_path()) std::filesystem::create_directories(index.parent_path(), ec);
        write_text(index.string(), page);
        fmt::print("{}: {} sweep(s) reported, {:.0f} KiB\n", index.string(), x.entries.size(),
                   double(page.size()) / 1024.0);
    }
    std::fflush(stdout);
    for (const std::string& line : x.passed_over)
        fmt::print(stderr, "iclr report: note: {}\n", line);
    return failed ? 2 : 0;
}

} // namespace iclr
