// The CLI's commands; each returns the process exit code. UserError/HostError escape to main.
#pragma once

#include <string>

#include "common/results_layout.hpp"

namespace iclr {

struct CommonOptions {
    std::string db;   // results database
    std::string data; // data sets folder
    // --db, else $ICLR_DB, else results/iclr.db; --data, else $ICLR_DATA, else data.
    std::string db_path() const { return db.empty() ? default_db_path() : db; }
    std::string data_dir() const { return data.empty() ? default_data_dir() : data; }
};

int cmd_plugins(const std::string& which);
int cmd_plan(const std::string& sweep, const std::string& profile);
struct RunOptions {
    std::string sweep, profile;
    std::string jobs;           // "" = the sweep's own setting; a number or "auto"
    int threads = 0;            // torch threads per trial; 0 = cores / jobs
    bool rerun_changed = false; // rerun finished trials whose plugin builds differ from today's
    CommonOptions common;
};
int cmd_run(const RunOptions& o);
int cmd_query(const std::string& sql, const std::string& format, const CommonOptions& c);
int cmd_show(const std::string& run, const std::string& format, const CommonOptions& c);
int cmd_diff(const std::string& a, const std::string& b, const std::string& format, const CommonOptions& c);
struct VerifyOptions {
    std::string sweep, profile, format = "table";
    bool strict = false; // exit 1 unless every claim held
    CommonOptions common;
};
int cmd_verify(const VerifyOptions& o);
struct ReportOptions {
    std::string sweep, profile, format = "html";
    std::string out;  // the page (html) or the summary (md; stdout when empty)
    std::string html; // md: the page to link to (default: where html would be written)
    CommonOptions common;
};
int cmd_report(const ReportOptions& o);

} // namespace iclr
