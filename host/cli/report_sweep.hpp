// One sweep's `iclr report`, as a step of several (`iclr report sweeps/*.toml`): gathered, written.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "report/report.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// A sweep's report as gathered, and how many of its trials as written no run has reached yet.
struct SweepReport {
    report::Report report;
    size_t planned = 0, unrecorded = 0;
};

// report_command.cpp: o.sweep's report from the database (claims computed as verify does); when
// `unrun` is given and none of its trials as written has run there, nullopt and *unrun says so
// (cli/sweep_runs.hpp's unrun_reason).
std::optional<SweepReport> gather_sweep(const ReportOptions& o, const SweepSpec& spec, std::string* unrun = nullptr);
// results/reports/DB/NAME[.PROFILE][.set-HASH].html beside the database.
std::filesystem::path default_page(const ReportOptions& o, const SweepSpec& spec);
// The page --out names: the file, or, for a folder (one that exists, or written with a trailing
// '/'), `file_name` in it.
std::filesystem::path out_page(const std::string& out, const std::string& file_name);
// The page written (renamed into place) and its one line printed; returns its size in bytes.
size_t write_page(const SweepReport& s, const std::filesystem::path& html, const report::Scripts& js);
// Text written beside `path` and renamed into place: a full disk leaves no half file behind.
void write_text(const std::string& path, const std::string& text);
// The Vega builds the page inlines ($ICLR_VEGA_DIR, else share/iclr/vega beside bin/).
report::Scripts vega_scripts();
// --format as "html" or "md" (markdown accepted); anything else is an error.
std::string report_format(const ReportOptions& o);

// report_several.cpp: each sweep's page, then an index page of them all; the exit status.
int report_several(const ReportOptions& o);

} // namespace iclr
