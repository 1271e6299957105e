// CacheGrowth: a trial that wrote a cache entry is followed by a walk of the cache to its limit.
#include "cli/cache_growth.hpp"

#include "cli/commands.hpp"

namespace iclr {

void CacheGrowth::attribute(const std::string& key, const std::string& value) {
    if ((key == "cache_hit" || key.rfind("data_cache_hit.", 0) == 0) && value == "0") grew_ = true;
}

void CacheGrowth::trial_finished(Progress* progress) {
    if (!grew_ || cache_dir_.empty()) return;
    grew_ = false;
    if (progress) progress->clear_line();
    keep_cache_limit(cache_dir_);
}

} // namespace iclr
