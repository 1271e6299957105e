// The command a parsed command line calls, with its options as the subcommands declared them.
#include <algorithm>

#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/several.hpp"
#include "common/errors.hpp"

namespace iclr {

int Arguments::dispatch() {
    for (auto* files : {&plan_sweeps, &run.sweeps, &folders, &verify.sweeps, &report.sweeps, &query_sweeps,
                        &rerun.sweeps, &table_opts.sweeps})
        once_each(*files);
    // --db and --data, into the option structs the commands take
    run.common = table_opts.common = rerun.common = report.common = verify.common = cache.common = common;
    if (*plugins) return cmd_plugins(plugin_name);
    if (*plan)
        return plan_sweeps.size() > 1 ? cmd_plan_several(plan_sweeps, variant, !plan_no_construct, common)
                                      : cmd_plan(plan_sweeps.front(), variant, !plan_no_construct, common);
    if (*run_cmd) return cmd_run(run);
    if (*sync) return cmd_sync(folders, common);
    if (*status) {
        auto toml = std::count_if(folders.begin(), folders.end(), [](auto& f) { return f.ends_with(".toml"); });
        if (toml > 0 && size_t(toml) < folders.size())
            throw UserError("iclr status takes sweep files or run folders, not both");
        if (toml == 1) return cmd_sweep_status(folders[0], variant, common);
        if (toml > 1) return cmd_sweep_status_several(folders, variant, common);
        if (!variant.profile.empty() || !variant.sets.empty())
            throw UserError("--profile and --set go with a sweep file: iclr status SWEEP.toml --profile NAME");
        return cmd_status(folders, common);
    }
    if (*query) return cmd_query(sql, format, query_sweeps, variant, attach, common);
    if (*table) return cmd_table(table_opts);
    if (*show) return cmd_show(run_id, format, common);
    if (*diff) return cmd_diff(run_id, run_b, diff_against, format, common);
    if (*rerun_cmd) return cmd_rerun(rerun);
    if (*report_cmd) return cmd_report(report);
    if (*verify_cmd) return cmd_verify(verify);
    if (*cache_cmd) return cmd_cache(cache);
    return 0;
}

} // namespace iclr
