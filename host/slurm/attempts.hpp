// Every attempt at every trial that a run folder's journals hold, and which attempt counts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "journal/events.hpp"
#include "slurm/run_folder.hpp"

namespace iclr::slurm {

// One attempt at a trial: from its start record to its end record (none when the task died first).
struct Attempt {
    std::string id;  // "<run folder>/<journal file>@<byte offset of the start record>"
    std::string job; // the array task that ran it, "<job>_<index>"
    journal::Started start;
    std::vector<journal::Event> records; // metrics, attributes, artifacts, in order
    std::optional<RunEnd> end;
};

struct FolderJournals {
    std::map<int64_t, std::vector<Attempt>> runs; // run id -> attempts, oldest first
    std::vector<std::string> problems;            // torn tails, records of unknown kind, ... (one line each)
};

// Reads every journal of the folder (with `job_task`, "12_3", only that array task's); a torn or
// garbled tail ends that file's reading (what came before is kept) and is reported in `problems`.
FolderJournals read_journals(const RunFolder& folder, const std::string& job_task = "");
// The same for these journal files, in this order.
FolderJournals read_journal_files(const std::vector<std::filesystem::path>& files);

// What an attempt makes of its run: its end record; without one, 'running' while its array task is
// in `active` (the tasks Slurm still holds), else 'interrupted'. active = nullopt (Slurm cannot be
// asked) counts every attempt without an end as ended.
RunEnd outcome(const Attempt& a, const std::optional<std::set<std::string>>& active);

// The attempt that counts: a finished one (done or diverged; the first if several) over one that
// ended otherwise (failed, timeout, interrupted; the latest) over one that never ended (the latest).
const Attempt& winner(const std::vector<Attempt>& attempts);

} // namespace iclr::slurm
