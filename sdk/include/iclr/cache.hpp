// BackboneCache: content-keyed reuse of expensive shared stages (pretrained backbones).
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <torch/torch.h>

#include "iclr/content_key.hpp"
#include "iclr/context.hpp"
#include "iclr/model.hpp"

namespace iclr {

class BackboneCache {
  public:
    // Fills `backbone` from cache_dir()/backbones/<key>.pt (key: an iclr::ContentKey's hex()), or runs train() on it
    // and saves it there. A file lock makes a concurrent worker with the same key wait and then load, so a stage is
    // computed once. Records the attributes cache_key and cache_hit on the run, and logs how long it took (so a reuse
    // can be seen in the log). Returns true on a cache hit.
    static bool load_or_build(RunContext& ctx, const std::string& key, Backbone& backbone,
                              const std::function<void()>& train) {
        namespace fs = std::filesystem;
        fs::path dir = ctx.cache_dir() / "backbones";
        fs::create_directories(dir);
        fs::path file = dir / (key + ".pt");
        auto t0 = std::chrono::steady_clock::now();
        int lock = open((file.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock >= 0) flock(lock, LOCK_EX);
        bool hit = fs::exists(file);
        try {
            if (hit) {
                torch::serialize::InputArchive in;
                in.load_from(file.string(), module_device(backbone)); // saved on any device
                backbone.load(in);
                // Each use moves the access time, which `iclr cache prune` and the cache's size
                // limit order by (the kernel's relatime moves it at most once a day). A failure
                // (another user's file) changes nothing.
                const timespec used[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
                (void)utimensat(AT_FDCWD, file.c_str(), used, 0);
            } else {
                train();
                torch::serialize::OutputArchive out;
                backbone.save(out);
                fs::path tmp = file;
                tmp += ".tmp." + std::to_string(getpid());
                out.save_to(tmp.string());
                fs::rename(tmp, file); // atomic: readers see a whole file or none
            }
        } catch (...) {
            if (lock >= 0) close(lock);
            throw;
        }
        if (lock >= 0) close(lock);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ctx.set_attribute("cache_key", key);
        ctx.set_attribute("cache_hit", hit ? "1" : "0");
        ctx.info(std::string(hit ? "cache hit: loaded backbone " : "cache miss: built backbone ") + key + " in " +
                 std::to_string(s) + " s");
        return hit;
    }
};

} // namespace iclr
