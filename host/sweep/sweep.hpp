// The sweep language: a TOML file parsed into fixed parameters, axes and rules (no expansion here).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/slurm_settings.hpp"
#include "iclr/abi.h"
#include "iclr/params.hpp"
#include "sweep/claim.hpp"
#include "sweep/plot.hpp"

namespace iclr {

// One plugin section of a sweep: [dataset], [pretrain] (a second dataset plugin, the data a
// method pretrains on), [model], [method] or one [[metric]].
struct SectionSpec {
    std::string role; // "dataset", "pretrain", "model", "method", "metric"
    int index = 0;    // position among [[metric]] tables
    std::string plugin;
    SourcePos pos;        // the table
    SourcePos plugin_pos; // the plugin = "..." line
    std::map<std::string, Value> fixed;
    std::map<std::string, SourcePos> key_pos;

    // "model", "method", "metric.accuracy" (or "metric.1" when a metric appears twice)
    std::string label;

    // A Dataset plugin's section: its data comes from the data folder.
    bool reads_data() const { return role == "dataset" || role == "pretrain"; }
};

// A swept parameter. Grid-like directives become a value list; random ones a distribution.
struct Axis {
    enum class Kind { Grid, Choice, Uniform, LogUniform, RandInt };
    int section = 0; // index into SweepSpec::sections
    std::string key;
    std::string label; // "model.width"
    std::string directive;
    SourcePos pos;
    Kind kind = Kind::Grid;
    std::vector<Value> values; // an explicit grid = [...] or choice = [...]
    std::vector<SourcePos> value_pos;
    // range / linspace / logspace are generated on demand, so a 10M-value range costs nothing.
    enum class Gen { List, Range, Linspace, Logspace };
    Gen gen = Gen::List;
    uint64_t count = 0;
    double start = 0, step = 0; // Range (ints when every bound was an integer)
    bool ints = false;
    size_t size() const { return gen == Gen::List ? values.size() : size_t(count); }
    Value value(size_t k) const;
    double lo = 0, hi = 0; // Uniform, LogUniform, RandInt (inclusive)
    std::string zip;       // grid axes with the same zip name advance together
    bool random() const { return kind != Kind::Grid; }
};

// exclude = [{ "model.width" = 1024, "method.lr" = { gt = 0.05 } }]: a point matching every
// condition of one rule is skipped.
struct ExcludeRule {
    struct Cond {
        std::string label;
        std::string op; // eq ne lt le gt ge in
        Value value;
    };
    std::vector<Cond> conds;
    SourcePos pos;
};

// Which variant of a sweep file is meant: its [profile.NAME] (none when empty), then each
// `--set KEY=VALUE` in order, each merged over the file's tables as a profile is (an [[arm]]'s own
// keys still win over both: they are what makes the arm).
struct SweepVariant {
    std::string profile;
    std::vector<std::string> sets; // "method.lr=0.1", "model.width={ grid = [32, 64] }"
    // As command-line arguments, quoted for a shell: "--profile ci --set 'method.lr=0.1'" ("" for none).
    std::string arguments() const;
    // The same to append to a command: " --profile ci --set 'method.lr=0.1'" ("" for none).
    std::string flags() const;
    // For file names beside the plain sweep's: ".ci", ".ci.set-3f2a9c1e" (a hash of the sets, in
    // order), "" for none: one variant's report does not overwrite another's (profile names that differ
    // only in characters a file name drops, '.' or ' ', share a tag).
    std::string tag() const;
};
// The variant a sweep recorded in the store was read with: its profile (sweeps.profile) and the
// --set overrides its source text carries (sweeps.source), in order.
SweepVariant recorded_variant(const std::string& profile, const std::string& source_text);

struct SweepSpec {
    std::string arm;  // the [[arm]] this spec is ("" when the sweep has no arms)
    std::string axis; // with [[arm]] and a plugin axis both: the plugin this copy runs, "dataset=mnist"
    // The arm as people read it: "simsiam-lump", or "simsiam-lump on dataset=mnist".
    std::string arm_label() const { return axis.empty() ? arm : arm + " on " + axis; }
    std::string file;
    std::string source_text;
    SweepVariant variant;
    std::string name, description;
    std::vector<int64_t> seeds{0};
    int jobs = 0;                      // trials at once; 0 = "auto" (the default: cores, at most the trials to run)
    double timeout_s = 0;              // per trial; 0 = none
    int64_t memory_mb = 0;             // per worker address-space limit; 0 = none
    int64_t samples = 0;               // draws of the random axes
    std::string on_nonfinite = "stop"; // a NaN/inf loss: "stop" the trial (diverged) or "record" and go on
    int64_t max_failures = 0;          // failed or timed-out trials after which no more start; 0 = no limit
    uint64_t sweep_seed = 0;
    SlurmSettings slurm;               // [sweep.slurm]: how `iclr run --launcher slurm` submits it
    std::string gpus;                  // "" default (every visible GPU when libtorch has CUDA), "all", "none", "0,1"
    int trials_per_gpu = 1;            // workers pinned to each GPU at once
    std::vector<SectionSpec> sections; // dataset?, model?, method, metrics...
    std::vector<Axis> axes;
    std::vector<ExcludeRule> excludes;
    std::vector<ClaimSpec> claims; // [[claim]]: checked by `iclr verify`, not by running
    std::vector<PlotSpec> plots;   // [[plot]]: drawn by `iclr report`

    const SectionSpec* section(const std::string& role) const {
        for (const auto& s : sections)
            if (s.role == role) return &s;
        return nullptr;
    }
};

// Reads an included file (see document.hpp); an empty function means "from disk".
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// Parses and checks the structure of a sweep file (plugin schemas are checked by validate_sweep).
// Throws SweepError with every problem found, each at file:line:column.
SweepSpec parse_sweep(const std::string& file, const SweepVariant& variant = {});
// The same for text already read; includes are read through `read`.
SweepSpec parse_sweep_text(const std::string& text, const std::string& file, const SweepVariant& variant = {},
                           const FileReader& read = {});
// A sweep with [[arm]] tables as one spec per arm: the base sweep with the arm's sections merged
// in (its own grids expand inside it). A sweep without arms gives one spec with arm "". Errors
// of one arm are prefixed with its name; errors every arm shares are reported once.
std::vector<SweepSpec> parse_arms(const std::string& file, const SweepVariant& variant = {});
std::vector<SweepSpec> parse_arms_text(const std::string& text, const std::string& file,
                                       const SweepVariant& variant = {}, const FileReader& read = {});
// The sweep a run was recorded with, read back from the store (sweeps.file, .profile, .source):
// the text as run holds the file's own text, each include and each --set, so neither the file nor
// its includes need exist today. Its first arm (settings such as on_nonfinite are the sweep's).
// Throws SweepError as parse_arms does.
SweepSpec recorded_sweep(const std::string& file, const std::string& profile, const std::string& source_text);
// The plugin sections other than [[metric]], in the order the parser reads them and a trial's
// canonical config lists them (then its metrics).
extern const std::array<const char*, 4> kSectionRoles;
// The plugin kind a section role takes: [pretrain] names a dataset plugin.
iclr_kind role_kind(const std::string& role);

} // namespace iclr
