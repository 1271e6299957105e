// The command line: every subcommand's options and the command a parsed line calls.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace iclr {

// Declares every subcommand on a CLI11 app (one method each); after app.parse, dispatch() runs the
// one given and returns its exit code.
class Arguments {
  public:
    explicit Arguments(CLI::App& app);
    int dispatch();

  private:
    void add_common(CLI::App* sub);
    void add_variant(CLI::App* sub, SweepVariant& v, const std::string& when = "", CLI::Option* needs = nullptr);
    void add_plugins(CLI::App& app);
    void add_plan(CLI::App& app);
    void add_run(CLI::App& app);
    void add_sync(CLI::App& app);
    void add_status(CLI::App& app);
    void add_query(CLI::App& app);
    void add_table(CLI::App& app);
    void add_show(CLI::App& app);
    void add_rerun(CLI::App& app);
    void add_diff(CLI::App& app);
    void add_verify(CLI::App& app);
    void add_report(CLI::App& app);
    void add_cache(CLI::App& app);
    void add_slurm_flags(CLI::App* sub);

    CommonOptions common;
    std::string plugin_name, sql, format = "table", run_id, run_b, diff_against;
    std::vector<std::string> attach; // iclr query --attach NAME=FILE
    SweepVariant variant;            // plan's --profile, --set
    bool plan_no_construct = false;
    std::vector<std::string> plan_sweeps;  // plan's sweep files
    std::vector<std::string> query_sweeps; // query's --sweep files
    std::vector<std::string> folders;
    RunOptions run;
    VerifyOptions verify;
    ReportOptions report;
    CacheOptions cache;
    TableOptions table_opts;
    RerunOptions rerun;
    CLI::App *cache_cmd = nullptr, *plugins = nullptr, *plan = nullptr, *run_cmd = nullptr, *query = nullptr,
             *show = nullptr, *diff = nullptr, *verify_cmd = nullptr, *report_cmd = nullptr, *sync = nullptr,
             *status = nullptr, *table = nullptr, *rerun_cmd = nullptr;
};

} // namespace iclr
