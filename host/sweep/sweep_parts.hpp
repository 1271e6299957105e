// The sweep parser's parts, one file each: the [sweep] table, directives, exclude rules.
#pragma once

#include <string>
#include <vector>

#include "sweep/parse_context.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// What the [sweep] table leaves for later passes.
struct SweepExtras {
    const toml::array* exclude = nullptr; // parsed once every axis is known
};

// sweep_table.cpp: [sweep] name, description, seeds, jobs, timeout, memory_mb, samples, ...
void parse_sweep_table(ParseContext& ctx, const toml::node& node, SweepSpec& spec, SweepExtras& extras);
// " (`seeds` is a [sweep] key: move it there)" for a key [sweep] takes, else "": what an error about
// such a key in a plugin's section adds.
std::string sweep_key_hint(const std::string& key);

// slurm_table.cpp: [sweep.slurm] partition, time, max_parallel, trials_per_task, cpus_per_task, ...
void parse_slurm_table(ParseContext& ctx, const toml::node& node, SlurmSettings& into);

// directives.cpp: `key = { grid = [...] }` and the other directives of one section key; appends
// the axis to `axes` when it is well formed.
void parse_directive(ParseContext& ctx, int section, const std::string& role, const std::string& key,
                     const toml::table& d, const toml::node& node, std::vector<Axis>& axes);

// exclude.cpp: exclude = [{ "model.width" = 1024, "method.lr" = { gt = 0.05 } }]; labels must
// name swept parameters.
std::vector<ExcludeRule> parse_excludes(ParseContext& ctx, const toml::array& arr, const std::vector<Axis>& axes);

// parser.cpp: a document's root to a spec; a sweep file's text (exists, not too large, readable).
SweepSpec parse_root(ParseContext& ctx, const toml::table& root, SweepSpec spec);
// A loaded document (variant applied) to a spec without arms; throws SweepError on any problem.
SweepSpec parse_document(ParseContext& ctx, const toml::table& root, const SweepVariant& variant, std::string source);
std::optional<std::string> read_sweep_file(const std::string& file);

// arms.cpp: a diagnostic every arm has once; the others prefixed "arm 'NAME': ".
std::vector<Diagnostic>
merge_arm_diagnostics(const std::vector<std::pair<std::string, std::vector<Diagnostic>>>& per_arm);

// claims.cpp: [[claim]] tables (claim.hpp says what each kind needs).
std::vector<ClaimSpec> parse_claims(ParseContext& ctx, const toml::node& node);

// plots.cpp: [[plot]] tables (plot.hpp says what each key means).
std::vector<PlotSpec> parse_plots(ParseContext& ctx, const toml::node& node);

} // namespace iclr
