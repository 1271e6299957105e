// A sweep document: one file, its includes, the chosen profile and overrides, merged into one TOML table.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include <toml++/toml.h>

#include "sweep/parse_context.hpp"
#include "sweep/sweep.hpp"

namespace iclr {

// FileReader (sweep.hpp) reads an included file: its text, or nullopt when it cannot be read. It
// is injected so that include handling is tested without a disk. The reader iclr uses: regular
// files up to kMaxSweepBytes.
FileReader disk_reader();
constexpr size_t kMaxSweepBytes = 16u << 20;

// Parses `text` (the file ctx.file()) and resolves its top-level `include = ["base.toml", ...]`
// (paths relative to the including file, cycles refused): included tables come first, this file's
// keys override them. source_text gets every included file's text appended, as run. Syntax
// errors and include errors stop parsing (ctx.fail()).
toml::table load_document(ParseContext& ctx, const std::string& text, const FileReader& read, std::string& source_text);

// Merges `from` into `into`, moving nodes (a copied toml++ node forgets its position); nested
// tables merge key by key, anything else replaces.
void merge_tables(toml::table& into, toml::table&& from);

// The sections an [[arm]] may override (arms.cpp), and so an `--set arm.NAME.SECTION.KEY` may set.
extern const std::set<std::string> kArmSections;

// Overlays [profile.NAME] on the root and drops the [profile] tables (an unknown profile fails),
// then each `--set KEY=VALUE` (a one-line TOML document; its diagnostics name it as their file,
// "--set method.lr=x:1:11"; `arm.NAME.SECTION.KEY=VALUE` sets one arm's key), appending each to
// source_text so the recorded sweep says it.
void apply_variant(ParseContext& ctx, toml::table& root, const SweepVariant& variant, std::string& source_text);

} // namespace iclr
