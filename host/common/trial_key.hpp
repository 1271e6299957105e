// A trial's key: the order its [[metric]] parts take in the canonical config text, the hash of that
// text, and the text as JSON.
#pragma once

#include <string>
#include <vector>

namespace iclr {

// The order of a trial's metric parts in its canonical text, given their plugin names in the sweep
// file's order: by name, so that moving [[metric]] blocks in a file leaves every trial's key (and
// the order the worker runs the metrics in) as it was. Where a plugin is named twice the file's
// order stands: those parts are labelled metric.<index> by their place in the file, and a run
// recorded under one labelling must not stand for a trial labelled the other way.
std::vector<size_t> metric_key_order(const std::vector<std::string>& plugins);

// A canonical config text with its [[metric]] blocks put in metric_key_order: how a run recorded
// before schema 9 (which kept the file's order) reads today. The text itself when its blocks are in
// that order already, or when it is not in canonical_config's format.
std::string config_in_key_order(const std::string& config_toml);

// The first 32 hex digits of the text's SHA-256.
std::string trial_key(const std::string& config_toml);

// The trial as JSON (runs.config_json), from its canonical TOML; "{}" for text that is not TOML.
std::string config_json(const std::string& config_toml);

} // namespace iclr
