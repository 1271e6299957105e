// What a run records and says about the plugins it uses, beyond their libraries' SHA-256: stale
// builds, defaults the arms differ in, the git state of plugins built outside iclr's own tree.
#pragma once

#include <map>
#include <string>

#include "cli/git_state.hpp"
#include "sweep/sweep_arms.hpp"

namespace iclr {

// One line per plugin the sweep uses whose library is older than its sources (`iclr plugins`
// marks it stale): the trials would run the library as built, not the code as it reads now.
// `what`: what happens next with the library ("the trials run it", "the check built it").
void warn_stale_plugins(const SweepArms& arms, const std::string& what);

// One line naming the parameters the arms leave to differing plugin defaults
// (SweepArms::unstated_differences), if any: a comparison between arms should state them.
void note_unstated_differences(const SweepArms& arms);
// A sweep with [pretrain] whose arms run a method that does not read it (ICLR_FLAG_READS_PRETRAIN):
// a note naming those methods, whose trials leave [pretrain] out; a warning when no method reads it.
void note_unread_pretrain(const SweepArms& arms);

// The git state of each source folder, outside iclr's tree, that a plugin of the sweep was built
// from (a plugin project of the user's, built against an installed iclr), by folder. A run's own
// git_commit is iclr's tree's, which says nothing of such a plugin's code. Folders in no git work
// tree are left out. Runs git a few times per folder, once per run, not per trial.
std::map<std::string, GitState> outside_plugin_git(const SweepArms& arms,
                                                   const std::string& iclr_tree = iclr_source_tree());

} // namespace iclr
