// The command line: every subcommand's options as CLI11 declares them, one method per subcommand
// (dispatch.cpp: the command a parsed line calls).
#include "cli/arguments.hpp"

#include <CLI/CLI.hpp>

#include "cli/parse_error.hpp"
#include "common/errors.hpp"

namespace iclr {
namespace {

constexpr const char* kSetHelp =
    "override one key after the profile, as TOML (a bare word is a string): method.lr=0.1, method.optimizer=adam, "
    "'model.width={ grid = [32, 64] }', one arm's: arm.NAME.method.lr=0.1; '~model.depth' removes a key (repeatable)";

constexpr const char* kNoConstructHelp =
    "skip building each distinct plugin configuration (run: and loading each data set) in a worker first (no "
    "libtorch; what a constructor or data set refuses then fails its trials instead of being one error before any "
    "runs)";

} // namespace

Arguments::Arguments(CLI::App& app) {
    add_plugins(app);
    add_plan(app);
    add_run(app);
    add_sync(app);
    add_status(app);
    add_query(app);
    add_table(app);
    add_show(app);
    add_rerun(app);
    add_diff(app);
    add_verify(app);
    add_report(app);
    add_cache(app);
}

void Arguments::add_common(CLI::App* sub) {
    sub->add_option("--db", common.db, "results database (default: $ICLR_DB or results/iclr.db)");
    sub->add_option("--data", common.data, "data sets folder (default: $ICLR_DATA or data)");
}

// --profile and --set: which variant of the sweep file. `when` begins their help where the sweep
// file is optional ("with --sweep: "), and `needs` is then the option that names it.
void Arguments::add_variant(CLI::App* sub, SweepVariant& v, const std::string& when, CLI::Option* needs) {
    auto* profile = sub->add_option(
        "--profile", v.profile, when.empty() ? "apply [profile.NAME] from the sweep" : when + "apply [profile.NAME]");
    auto* set = sub->add_option("--set", v.sets, when + kSetHelp)->allow_extra_args(false);
    if (needs) {
        profile->needs(needs);
        set->needs(needs);
    }
}

void Arguments::add_plugins(CLI::App& app) {
    plugins = app.add_subcommand("plugins", "list discovered plugins, or describe one (e.g. methods/finetune)");
    plugins->footer("Examples:\n  iclr plugins                    every plugin: kind, name, version, file, ok / "
                    "stale / broken\n"
                    "  iclr plugins methods/finetune   its citation, build fingerprint and parameters");
    plugins->add_option("plugin", plugin_name, "kind/name or name");
}

void Arguments::add_plan(CLI::App& app) {
    plan = app.add_subcommand("plan", "validate a sweep (or several) and count its trials; trains nothing");
    plan->footer("Examples:\n  iclr plan sweeps/mlti.toml --profile ci   arms, trial counts, claims; errors as "
                 "file:line:col\n"
                 "  iclr plan sweeps/*.toml --no-construct     every sweep file checked: how many are valid");
    plan->add_option("sweeps", plan_sweeps, "sweep file(s) (.toml); several: each planned, then how many are valid")
        ->required();
    add_variant(plan, variant);
    plan->add_flag("--no-construct", plan_no_construct, kNoConstructHelp);
    add_common(plan);
}

void Arguments::add_run(CLI::App& app) {
    run_cmd = app.add_subcommand("run", "run a sweep, or several (alike pools as one queue; `iclr plan` of them says "
                                        "how); resumable: finished trials are skipped");
    run_cmd->footer("Examples:\n  iclr run sweeps/forgetting_vs_scale.toml           the default profile, into "
                    "results/iclr.db\n"
                    "  iclr run sweeps/mlti.toml --profile ci --db /tmp/x.db\n"
                    "  iclr run sweeps/lp_ft.toml --set method.epochs=2 --set sweep.seeds=1   keys overridden\n"
                    "  iclr run sweeps/forgetting_vs_scale.toml --launcher slurm --max-parallel 50 --wait\n"
                    "  iclr run sweeps/*.toml --profile ci             every sweep's ci profile into one database\n"
                    "Ctrl-C stops cleanly; running it again resumes (finished trials are skipped).");
    run_cmd
        ->add_option("sweeps", run.sweeps,
                     "sweep file(s) (.toml); several: every one is read first (nothing runs if one cannot be), then "
                     "they run into the same database in turn, consecutive ones whose pools are alike as one queue")
        ->required();
    add_variant(run_cmd, run.variant);
    run_cmd
        ->add_option("-j,--jobs", run.jobs,
                     "trials at once, or auto (one per core, at most the trials to run; default: the "
                     "sweep's jobs); cores are split between them")
        ->check(whole_number(1, 256, "auto"));
    run_cmd->add_option("--threads", run.threads, "torch threads per trial (default: cores / jobs)")
        ->check(whole_number(1, 256));
    run_cmd->add_option("--gpus", run.gpus,
                        "GPUs to pin workers to: 0,1 / all / none (default: [sweep] gpus, else every visible "
                        "GPU when libtorch has CUDA)");
    run_cmd->add_option("--trials-per-gpu", run.trials_per_gpu, "workers sharing one GPU (default 1)")
        ->check(whole_number(1, 256));
    run_cmd
        ->add_option("--max-failures", run.max_failures,
                     "start no more trials once this many have failed or timed out (0: no limit; default: "
                     "[sweep] max_failures, else none); the rest stay pending for the next run")
        ->check(whole_number(0, 1'000'000));
    run_cmd->add_flag("--no-construct", run.no_construct, kNoConstructHelp);
    run_cmd->add_flag("--rerun-changed", run.rerun_changed,
                      "rerun finished trials that another build of a plugin (same version) produced");
    add_slurm_flags(run_cmd);
    add_common(run_cmd);
}

void Arguments::add_sync(CLI::App& app) {
    sync = app.add_subcommand("sync", "ingest Slurm array tasks' journals into the database (idempotent)");
    sync->footer("Examples:\n  iclr sync                                   every run folder of the database\n"
                 "  iclr sync results/slurm/iclr.db/forgetting_vs_scale-3   one run folder, into the database "
                 "it was made for\n"
                 "Run it as often as you like: nothing is counted twice.");
    sync->add_option("folder", folders, "run folders (default: every one under results/slurm/DB/)");
    add_common(sync);
}

void Arguments::add_status(CLI::App& app) {
    status = app.add_subcommand(
        "status", "where a sweep stands: its trials by arm and status, or Slurm array tasks and their queue state");
    status->footer("Examples:\n  iclr status   every sweep file the database holds runs of, by status (and "
                   "the Slurm run folders beside it)\n"
                   "  iclr status sweeps/forgetting_vs_scale.toml   its trials as written in the "
                   "database, by arm: done, failed, running, pending, not recorded\n"
                   "  iclr status results/slurm/iclr.db/forgetting_vs_scale-3   a Slurm run's array tasks");
    status->add_option(
        "folder", folders,
        "sweep file(s) (.toml: each in turn), or Slurm run folders (default: the database's sweeps, then every "
        "run folder under results/slurm/DB/)");
    add_variant(status, variant, "with a sweep file: ");
    add_common(status);
}

void Arguments::add_query(CLI::App& app) {
    query = app.add_subcommand("query", "read-only SQL over the results");
    query->footer(
        "Example:\n  iclr query \"SELECT r.arm, AVG(f.value) FROM runs r JOIN final_metrics f ON f.run_id = r.id "
        "WHERE f.key = 'forgetting' GROUP BY r.arm\" -f markdown\n"
        "Tables: sweeps, runs, params, metrics, final_metrics, attributes, artifacts, verdicts, journal_ingests; "
        "stdev(), ci95_low(), median(), spearman() ... are built in.\n"
        "  iclr query --sweep sweeps/lp_ft.toml \"SELECT s.arm, COUNT(*) FROM runs r JOIN sweep_runs s ON s.id = "
        "r.id GROUP BY s.arm\"   only the sweep's trials as written, by its arms");
    query->add_option("sql", sql, "one SELECT statement")->required();
    query->add_option("-f,--format", format, "table, csv, json or markdown");
    auto* in_sweep =
        query
            ->add_option("--sweep", query_sweeps,
                         "a sweep file: its trials as written (with --profile, --set) are the table sweep_runs(id, "
                         "arm: the sweep's own, sweep: its [sweep] name), for JOIN sweep_runs s ON s.id = r.id "
                         "(repeatable: every sweep's trials, a row each)")
            ->allow_extra_args(false);
    query
        ->add_option("--attach", attach,
                     "NAME=FILE: another results database the SQL reads as NAME.runs, NAME.metrics, ... "
                     "(read-only; repeatable)")
        ->allow_extra_args(false);
    add_variant(query, variant, "with --sweep: ", in_sweep);
    add_common(query);
}

void Arguments::add_table(CLI::App& app) {
    table = app.add_subcommand("table", "a sweep's runs as one flat table: a row per run, what differs between "
                                        "them and their final metrics as columns (several: each in turn)");
    table->footer("Examples:\n  iclr table sweeps/forgetting_vs_scale.toml\n"
                  "  iclr table sweeps/lp_ft.toml --format csv > lp_ft.csv   pandas.read_csv('lp_ft.csv')");
    table
        ->add_option("sweeps", table_opts.sweeps,
                     "sweep file(s) (.toml): its trials as written; several: each one's table in turn (--format "
                     "table or markdown: a CSV's or JSON's columns are one sweep's)")
        ->required();
    table->add_option("-f,--format", table_opts.format, "table, csv, json or markdown");
    add_variant(table, table_opts.variant);
    table->add_flag("--all-params", table_opts.all_params,
                    "every parameter and attribute, not only those that differ between runs");
    table->add_flag("--per-task", table_opts.per_task, "a column per task of each per-task metric: acc[0], ...");
    add_common(table);
}

void Arguments::add_show(CLI::App& app) {
    show = app.add_subcommand("show", "one run: config, status, timings, plugins, metrics, log tail, provenance");
    show->footer("Examples:\n  iclr show 12\n  iclr show 3f9a2c41 --format json   by key prefix, everything as one "
                 "JSON object\n  iclr show 12 --format sweep > one.toml   its trial as a sweep file: change a "
                 "value, iclr run one.toml");
    show->add_option("run", run_id, "run id or key prefix")->required();
    show->add_option("-f,--format", format,
                     "table, json (one object: every column, plugins whole) or sweep (a sweep file of this one "
                     "trial: edit it to run a variant)");
    add_common(show);
}

void Arguments::add_rerun(CLI::App& app) {
    rerun_cmd = app.add_subcommand(
        "rerun", "run a recorded run (or a sample of a sweep's) again from the database and compare its metrics with "
                 "the recorded ones");
    rerun_cmd->footer("Examples:\n  iclr rerun 12                  reproduced bit for bit, or each value that "
                      "differs (exit 1)\n"
                      "  iclr rerun 12 --warm-cache     stages the cache holds (data, a pretrained backbone) are "
                      "read, not recomputed\n"
                      "  iclr rerun 12 --tolerance 1e-6 differences up to 1e-6 count as reproduced\n"
                      "  iclr rerun --sweep sweeps/mlti.toml --profile ci --sample 3   three of its runs, drawn "
                      "with a fixed seed\n"
                      "  iclr rerun --sweep sweeps/*.toml --profile ci --sample 0   every ci run of every sweep, "
                      "side by side (--jobs)\n"
                      "Nothing is written to the database; the rerun's log and files go to "
                      "results/reruns/DB/run-N/ (its fresh cache is removed at the end).");
    rerun_cmd->add_option("run", rerun.run, "run id or key prefix");
    auto* rerun_sweep =
        rerun_cmd->add_option("--sweep", rerun.sweeps,
                              "rerun a sample of this sweep file's runs (its trials as written) instead of "
                              "one (several, `--sweep sweeps/*.toml` or repeated: every sweep's sample "
                              "on one pool, a line per sweep, then one line for them all)");
    add_variant(rerun_cmd, rerun.variant, "with --sweep: ", rerun_sweep);
    rerun_cmd->add_option("--sample", rerun.sample, "with --sweep: how many of its runs (default 5; 0: every one)")
        ->check(whole_number(0, INT64_MAX))
        ->needs(rerun_sweep);
    rerun_cmd
        ->add_option("--sample-seed", rerun.sample_seed,
                     "with --sweep: the seed of the generator that draws the sample (default 0)")
        ->needs(rerun_sweep);
    rerun_cmd
        ->add_option("-j,--jobs", rerun.jobs,
                     "with --sweep: runs rerun side by side, each in its own worker (default: the cores / the "
                     "thread count most of them recorded; 1: one after another)")
        ->check(whole_number(1, 256))
        ->needs(rerun_sweep);
    rerun_cmd->add_option("--threads", rerun.threads, "torch threads (default: the run's, as recorded)")
        ->check(whole_number(1, 256));
    rerun_cmd->add_flag("--warm-cache", rerun.warm_cache,
                        "read the stages the database's artifact cache holds (decoded data, pretrained "
                        "backbones) instead of computing them again");
    rerun_cmd
        ->add_option("--tolerance", rerun.tolerance,
                     "the largest absolute difference counted as reproduced (default 0: bit for bit)")
        ->check(non_negative());
    add_common(rerun_cmd);
}

void Arguments::add_diff(CLI::App& app) {
    diff = app.add_subcommand("diff", "two runs side by side: differing parameters and provenance, final metrics");
    diff->footer("Examples:\n  iclr diff 12 31   what differs (parameters, seed, plugin builds, git, host) and b - a\n"
                 "  iclr diff 12 --against /tmp/before.db   run 12 and the run of the same trial in another database");
    diff->add_option("run_a", run_id, "run id or key prefix")->required();
    diff->add_option("run_b", run_b, "run id or key prefix (with --against: of that database; default: run_a's trial)");
    diff->add_option("--against", diff_against,
                     "read run_b from another database (default: the run of run_a's trial there, by key, else by "
                     "its plugins, parameters and seed, else by the parameters both plugin versions have, else by "
                     "its place in the sweep)");
    diff->add_option("-f,--format", format, "table, csv, json or markdown");
    add_common(diff);
}

void Arguments::add_verify(CLI::App& app) {
    verify_cmd = app.add_subcommand(
        "verify", "compute the verdict of each [[claim]] of a sweep (or several), print and record it");
    verify_cmd->footer("Example:\n  iclr verify sweeps/forgetting_vs_scale.toml --format markdown   "
                       "held / not held / inconclusive, with 95% CIs\n"
                       "  iclr verify sweeps/lp_ft.toml --claim 'out of distribution' --rows   one claim and its "
                       "rows\n"
                       "  iclr verify sweeps/lp_ft.toml --against /tmp/before.db   which verdicts moved since "
                       "that run\n"
                       "  iclr verify sweeps/*.toml   every sweep the database has runs of, and a row per sweep: "
                       "held, not held, inconclusive");
    verify_cmd
        ->add_option("sweeps", verify.sweeps,
                     "sweep file(s) (.toml); several: each one's verdicts, then a row per sweep verified (those "
                     "with no run in the database are named on stderr)")
        ->required();
    add_variant(verify_cmd, verify.variant);
    verify_cmd->add_option("-f,--format", verify.format, "table, csv, markdown or json");
    verify_cmd->add_flag("--strict", verify.strict,
                         "exit 1 unless every claim held and every trial of the sweep as written is done");
    verify_cmd->add_option("--claim", verify.claim, "only the claims whose name contains this text");
    verify_cmd->add_flag("--rows", verify.rows,
                         "after the verdicts, each claim's rows: the runs and values it was computed from");
    verify_cmd->add_option("--against", verify.against,
                           "another database of the sweep (an earlier run, another machine, other plugin versions: "
                           "trials by key, else by their plugins, parameters and seed, else by the parameters both "
                           "versions have, else by their place in the sweep): each verdict in both, side by side, "
                           "and what the runs were computed with; exit 1 if a verdict differs");
    add_common(verify_cmd);
}

void Arguments::add_report(CLI::App& app) {
    report_cmd = app.add_subcommand(
        "report",
        "one self-contained HTML page of a sweep's results: claims, figures, provenance, failures (several: a "
        "page each and an index)");
    report_cmd
        ->add_option("sweeps", report.sweeps,
                     "sweep file(s) (.toml); several: each one's page, then an index page linking them with every "
                     "claim's verdict (those with no run in the database are named on stderr)")
        ->required();
    add_variant(report_cmd, report.variant);
    report_cmd->add_option(
        "-o,--out", report.out,
        "the page (default: results/reports/DB/NAME.html beside the database DB; NAME.PROFILE.html with --profile, "
        "NAME[.PROFILE].set-HASH.html with --set; a folder: that name in it); with several sweeps the index page, the "
        "sweeps' pages beside it "
        "(default: results/reports/DB/index[.PROFILE][.set-HASH].html); with --format md the summary (default: "
        "stdout)");
    report_cmd->add_option("-f,--format", report.format, "html, or md: a Markdown summary linking to the page");
    report_cmd->add_option("--html", report.html, "with --format md: the page to link to");
    report_cmd->footer("Examples:\n  iclr report sweeps/forgetting_vs_scale.toml   "
                       "-> results/reports/iclr.db/forgetting_vs_scale.html (opens offline)\n"
                       "  iclr report sweeps/mlti.toml --format md      a Markdown summary on stdout\n"
                       "  iclr report sweeps/*.toml                      a page per sweep run into the database, "
                       "and results/reports/iclr.db/index.html: every claim's verdict, linking them");
    add_common(report_cmd);
}

void Arguments::add_cache(CLI::App& app) {
    cache_cmd = app.add_subcommand("cache", "the artifact cache beside the database: size, entries and the runs "
                                            "that used them, pruning, a size limit");
    cache_cmd->footer(
        "Examples:\n  iclr cache                              entries and size per kind (backbones, data)\n"
        "  iclr cache list                         every entry: key, size, last used, runs of this database "
        "that used it\n"
        "  iclr cache prune --older-than 30d       entries not used for 30 days\n"
        "  iclr cache prune --max-size 20G         least recently used first, until 20 GiB are left\n"
        "  iclr cache limit 20G                    the same after every `iclr run` (kept in the cache folder; "
        "none removes it)\n"
        "Pruning is safe while sweeps run: an entry a worker is using is kept; a removed one is computed "
        "again when needed.");
    cache_cmd->add_option("action", cache.action, "list, prune or limit (default: a summary)")
        ->check(one_of({"list", "prune", "limit"}));
    cache_cmd->add_option("size", cache.value, "limit: the cache's size limit (20G) or none; none given: say it");
    cache_cmd->add_option("-f,--format", cache.format, "list: table, csv, json or markdown");
    cache_cmd->add_option("--older-than", cache.older_than, "prune: entries last used longer ago (12h, 30d)");
    cache_cmd->add_option("--max-size", cache.max_size, "prune: then least recently used until this is left (20G)");
    cache_cmd->add_flag("--all", cache.all, "prune: every entry");
    cache_cmd->add_flag("--dry-run", cache.dry_run, "prune: say what would go, remove nothing");
    cache_cmd->add_option("--db", common.db,
                          "results database, the cache beside it (default: $ICLR_DB or "
                          "results/iclr.db)");
}

void Arguments::add_slurm_flags(CLI::App* sub) {
    sub->add_option("--launcher", run.launcher, "local (the worker pool here) or slurm (job arrays)")
        ->check(one_of({"local", "slurm"}));
    sub->add_flag("--wait", run.wait, "slurm: follow the array jobs to the end, syncing as they go");
    sub->add_option("--partition", run.slurm.partition, "slurm: partition ([sweep.slurm] partition)");
    sub->add_option("--time", run.slurm.time, "slurm: time limit per array task, e.g. 2:00:00");
    sub->add_option("--max-parallel", run.slurm.max_parallel, "slurm: array tasks at once (--array=...%K)")
        ->check(whole_number(1, 100000));
    sub->add_option("--trials-per-task", run.slurm.trials_per_task, "slurm: trials per array task (default 1)")
        ->check(whole_number(1, 1000000));
    sub->add_option("--cpus-per-task", run.slurm.cpus_per_task, "slurm: cores per array task (default 1)")
        ->check(whole_number(1, 1024));
    sub->add_option("--gres", run.slurm.gres, "slurm: generic resources per array task, e.g. gpu:1");
    sub->add_option("--sbatch-arg", run.slurm.sbatch_args, "slurm: passed to sbatch as is (repeatable)")
        ->allow_extra_args(false);
}

} // namespace iclr
