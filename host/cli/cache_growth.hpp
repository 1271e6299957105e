// CacheGrowth: keeps the cache's size limit while a run adds entries, for either sink.
#pragma once

#include <filesystem>
#include <string>

#include "cli/progress.hpp"

namespace iclr {

// A run keeps `iclr cache limit` as the cache grows, not only when it ends: a sweep that pretrains
// many backbones or decodes many data sets would otherwise fill a disk the limit was set to
// protect. Only after a trial that wrote an entry, as a walk of the cache costs more than a no-op
// trial: the worker reports one as the attribute cache_hit (a backbone) or data_cache_hit.<role>
// (a data set) = 0.
class CacheGrowth {
  public:
    explicit CacheGrowth(std::filesystem::path cache_dir) : cache_dir_(std::move(cache_dir)) {}
    void attribute(const std::string& key, const std::string& value);
    // After a trial's end is recorded: prunes to the limit if the cache grew since the last time
    // (clearing the progress line first, when there is one).
    void trial_finished(Progress* progress);

  private:
    std::filesystem::path cache_dir_; // "" keeps no limit
    bool grew_ = false;
};

} // namespace iclr
