// What a worker keeps across trials (plugin libraries, loaded data sets) and how it reads a payload.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "common/values.hpp"
#include "exec/worker/worker_context.hpp"
#include "iclr/sdk.hpp"

namespace iclr::worker {

std::string first_line(const std::string& s);

// A plugin-raised error tagged with the plugin that raised it.
struct TaggedError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class F> auto tagged(const std::string& who, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Cancelled&) {
        throw;
    } catch (const Diverged&) {
        throw; // ends the trial `diverged`, whoever logged the loss
    } catch (const TaggedError&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw; // reported as out of memory, whoever allocated
    } catch (const std::exception& e) {
        throw TaggedError(who + ": " + first_line(e.what()));
    }
}

// One plugin of a trial, as the payload's [[part]] table names it.
struct Part {
    std::string role, label, name, version, file, sha256;
    ParamSet params;
    std::string params_text;
    // Canonical text for content keys: same plugin, version and parameters = same text.
    std::string canonical() const { return section_text(name, version, params); }
};

// The roles whose plugin is a Dataset: what they load depends on the data folder.
bool is_data_role(const std::string& role);

// What a worker keeps across its trials: each plugin library loaded once, and the last few
// benchmarks (loading MNIST again for every trial would dominate short trials).
class PluginObjects {
  public:
    // Loads (once per file) and creates a plugin object of the given interface.
    template <class T> std::unique_ptr<T> create(const Part& p, RunContext& ctx) {
        const iclr_plugin_info* info = load(p);
        char err[1024] = {0};
        void* obj = info->create(&p.params, &ctx, err, sizeof err);
        if (!obj) throw TaggedError(p.role + " '" + p.name + "' (constructor): " + (err[0] ? err : "create() failed"));
        return std::unique_ptr<T>(static_cast<T*>(obj));
    }
    // Creates the part's plugin object through the interface its role takes, and deletes it.
    void construct_only(const Part& p, RunContext& ctx);
    // Whether the part's method declares that it reads [pretrain] (plugin/plugin_loader.hpp).
    bool reads_pretrain(const Part& p);

    // The benchmark for these dataset parameters, reused across the worker's trials and, through
    // the data cache, mapped by every other worker that loads it.
    std::shared_ptr<Benchmark> benchmark(const Part& p, RunContext& ctx);

    // What a data set plugin reads besides its parameters: the data folder's files, by relative
    // path, size and modification time (folder_facts), so data rewritten in place is decoded and
    // pretrained on again instead of served from what the old files gave, while a copy that kept
    // the times (a node-local copy, the folder moved) reuses the caches: the folder's own path is
    // not part of it. Read once per worker, as the worker keeps a loaded data set for its later
    // trials anyway.
    std::string data_identity(RunContext& ctx);

    // The payload's data_scope (SchedulerOptions::data_scope): when it changes, the worker was kept
    // for another sweep, and the data sets (and their GPU copies) it holds for the last one go.
    void enter_scope(const std::string& scope);

  private:
    std::string data_key(const Part& p, RunContext& ctx);
    const iclr_plugin_info* load(const Part& p);

    std::map<std::string, const iclr_plugin_info*> loaded_;
    struct Held {
        std::shared_ptr<Benchmark> benchmark;
        bool cached = false;                    // in the data cache (mapped or written by this worker)
        std::shared_ptr<Benchmark> on_device{}; // its copy on the GPU, made by the first GPU trial
    };
    // What a trial gets: the benchmark itself on the CPU, its copy on a GPU (once per worker).
    static std::shared_ptr<Benchmark> placed(Held& h, RunContext& ctx);
    std::map<std::string, Held> benchmarks_;
    std::map<std::string, std::string> data_identity_; // data folder -> data_identity
    std::string scope_;
};

// The payload's [[part]] tables: each plugin of the trial with its resolved parameters.
std::vector<Part> parse_parts(const toml::table& t);
// The payload's run settings: run id, seed, threads, device, folders, what a non-finite loss does.
ContextSettings context_settings(const toml::table& t);

} // namespace iclr::worker
