// The worker process: loads libtorch and plugins once, then runs trials sent by the host.
// The worker's sources are the only host-side code that includes torch; built as libiclr_worker.so and
// loaded by `iclr __worker`, so commands that do not train never load libtorch.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include <toml++/toml.h>
#include <torch/torch.h>

#include "common/file_facts.hpp"
#include "common/values.hpp"
#include "exec/protocol.hpp"
#include "exec/worker/data_cache.hpp"
#include "exec/worker/kernels.hpp"
#include "exec/worker/on_device.hpp"
#include "exec/worker/worker_context.hpp"
#include "iclr/sdk.hpp"
#include "plugin/plugin_loader.hpp"

namespace iclr {
namespace {

using worker::CachedLoad;
using worker::flush_records;
using worker::g_cancelled;
using worker::load_cached;
using worker::WorkerContext;

void on_term(int) { g_cancelled.store(true); }

void on_crash(int sig) {
    flush_records();
    signal(sig, SIG_DFL);
    raise(sig);
}

std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

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

struct Part {
    std::string role, label, name, version, file, sha256;
    ParamSet params;
    std::string params_text;
    // Canonical text for content keys: same plugin, version and parameters = same text.
    std::string canonical() const { return section_text(name, version, params); }
};

// The roles whose plugin is a Dataset: what they load depends on the data folder.
bool is_data_role(const std::string& role) { return role == "dataset" || role == "pretrain"; }

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

    // The benchmark for these dataset parameters, reused across the worker's trials and, through
    // the data cache, mapped by every other worker that loads it.
    std::shared_ptr<Benchmark> benchmark(const Part& p, RunContext& ctx) {
        const std::string cache_key = p.sha256.empty() ? "" : data_key(p, ctx);
        // Which cached data set the run used, by role (data_cache.dataset, data_cache.pretrain):
        // `iclr cache list` names the runs behind each entry from it.
        if (!cache_key.empty()) ctx.set_attribute("data_cache." + p.role, cache_key);
        // data_cache_hit.<role>, as cache_hit for a backbone: 0 when this trial decoded the set and
        // wrote its cache entry (which tells the host the cache grew: it keeps the limit after such a
        // trial), 1 when it is in the cache and this trial did not decode it; absent when not cached.
        auto hit = [&](bool decoded) {
            if (!cache_key.empty()) ctx.set_attribute("data_cache_hit." + p.role, decoded ? "0" : "1");
        };
        std::string key = p.file + "\n" + p.params_text;
        if (auto it = benchmarks_.find(key); it != benchmarks_.end()) {
            if (it->second.cached) hit(false);
            return placed(it->second, ctx);
        }
        auto t0 = std::chrono::steady_clock::now();
        auto decode = [&] {
            auto ds = create<Dataset>(p, ctx);
            return tagged("dataset '" + p.name + "'", [&] { return ds->load(ctx); });
        };
        CachedLoad c = p.sha256.empty() ? CachedLoad{std::make_shared<Benchmark>(decode()), "not cached: no build hash"}
                                        : load_cached(ctx.cache_dir() / "data", cache_key, decode);
        auto b = c.benchmark;
        if (c.use != CachedLoad::Use::NotCached) hit(c.use == CachedLoad::Use::Written);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ctx.info(p.role + " " + p.name + " loaded in " + std::to_string(s) + " s (" + std::to_string(b->tasks.size()) +
                 " tasks; " + c.note + ")");
        if (benchmarks_.size() >= 4) benchmarks_.clear(); // bound memory: a few data sets at most
        return placed(benchmarks_[key] = {b, c.use != CachedLoad::Use::NotCached}, ctx);
    }

    // What a data set plugin reads besides its parameters: the data folder's files, by relative
    // path, size and modification time (folder_facts), so data rewritten in place is decoded and
    // pretrained on again instead of served from what the old files gave, while a copy that kept
    // the times (a node-local copy, the folder moved) reuses the caches: the folder's own path is
    // not part of it. Read once per worker, as the worker keeps a loaded data set for its later
    // trials anyway.
    std::string data_identity(RunContext& ctx) {
        auto [it, fresh] = data_identity_.try_emplace(ctx.data_dir().string());
        if (fresh) it->second = ContentKey("data folder").add("files", folder_facts(ctx.data_dir())).hex();
        return it->second;
    }

  private:
    // What a decoded data set depends on: the plugin's build (its code), its parameters and the
    // data folder it read (Dataset::load must not depend on anything else, the SDK says).
    std::string data_key(const Part& p, RunContext& ctx) {
        return ContentKey("data cache v2")
            .add("build", p.sha256)
            .add("config", p.canonical())
            .add("data", data_identity(ctx))
            .hex();
    }

    const iclr_plugin_info* load(const Part& p) {
        if (auto it = loaded_.find(p.file); it != loaded_.end()) return it->second;
        LoadedPlugin lp = load_plugin(p.file);
        if (!lp.record.ok) throw TaggedError(p.role + " '" + p.name + "' [" + p.file + "]: " + lp.record.error);
        loaded_[p.file] = lp.info;
        return lp.info;
    }
    std::map<std::string, const iclr_plugin_info*> loaded_;
    struct Held {
        std::shared_ptr<Benchmark> benchmark;
        bool cached = false;                    // in the data cache (mapped or written by this worker)
        std::shared_ptr<Benchmark> on_device{}; // its copy on the GPU, made by the first GPU trial
    };
    // What a trial gets: the benchmark itself on the CPU, its copy on a GPU (once per worker).
    static std::shared_ptr<Benchmark> placed(Held& h, RunContext& ctx) {
        if (ctx.device() == "cpu") return h.benchmark;
        if (!h.on_device) h.on_device = worker::on_device(*h.benchmark, torch::Device(ctx.device()));
        return h.on_device;
    }
    std::map<std::string, Held> benchmarks_;
    std::map<std::string, std::string> data_identity_; // data folder -> data_identity
};

class TrialSession : public Session {
  public:
    TrialSession(PluginObjects& worker, const std::vector<Part>& parts, std::shared_ptr<Benchmark> b, Model* model,
                 std::string model_name, std::vector<std::pair<std::string, Metric*>> metrics, WorkerContext& ctx)
        : worker_(worker), parts_(parts), bench_(std::move(b)), model_(model), model_name_(std::move(model_name)),
          metrics_(std::move(metrics)), ctx_(ctx) {}
    const Benchmark& benchmark() override {
        if (!bench_) throw PluginError("this sweep has no [dataset]");
        return *bench_;
    }
    std::shared_ptr<Backbone> new_backbone() override {
        if (!model_) throw PluginError("this sweep has no [model]");
        auto shape = bench_ ? bench_->input_shape : std::vector<int64_t>{};
        return tagged("model '" + model_name_ + "'", [&] {
            auto b = model_->build(shape, ctx_); // on the CPU: the same initial weights on every device
            if (ctx_.device() != "cpu") b->to(torch::Device(ctx_.device()));
            return b;
        });
    }
    void notify(const Event& e, Learner& learner) override {
        ctx_.check_cancelled();
        static const Benchmark empty;
        WorkerContext::EventScope shared(ctx_); // the metrics share what they evaluate (test accuracies)
        for (auto& [name, m] : metrics_)
            tagged("metric '" + name + "'", [&] { m->on_event(e, learner, bench_ ? *bench_ : empty, ctx_); });
    }
    RunContext& ctx() override { return ctx_; }
    const Benchmark* pretrain_benchmark() override {
        if (!pretrain_)
            for (const auto& p : parts_)
                if (p.role == "pretrain") pretrain_ = worker_.benchmark(p, ctx_);
        return pretrain_.get();
    }
    // With the plugin's build, and for a data set the data folder's identity: a backbone pretrained
    // by an older build of the model or data set plugin (same version, other code), or on data
    // files since replaced, is not handed to this one's trials.
    std::string config_text(const std::string& role) override {
        for (const auto& p : parts_)
            if (p.role == role)
                return p.canonical() + (p.sha256.empty() ? "" : " build " + p.sha256) +
                       (is_data_role(role) ? " data " + worker_.data_identity(ctx_) : "");
        return "";
    }

  private:
    PluginObjects& worker_;
    const std::vector<Part>& parts_;
    std::shared_ptr<Benchmark> pretrain_;
    std::shared_ptr<Benchmark> bench_;
    Model* model_;
    std::string model_name_;
    std::vector<std::pair<std::string, Metric*>> metrics_;
    WorkerContext& ctx_;
};

// The payload's [[part]] tables: each plugin of the trial with its resolved parameters.
std::vector<Part> parse_parts(const toml::table& t) {
    std::vector<Part> parts;
    const toml::array* arr = t["part"].as_array();
    if (!arr) return parts;
    for (const auto& n : *arr) {
        const toml::table& pt = *n.as_table();
        Part p;
        p.role = pt["role"].value_or(std::string());
        p.label = pt["label"].value_or(std::string());
        p.name = pt["plugin"].value_or(std::string());
        p.version = pt["version"].value_or(std::string());
        p.file = pt["file"].value_or(std::string());
        p.sha256 = pt["sha256"].value_or(std::string());
        if (const toml::table* params = pt["params"].as_table()) {
            for (auto&& [k, v] : *params)
                if (auto val = value_from_toml(v)) p.params.values[std::string(k.str())] = *val;
            std::ostringstream os;
            os << *params;
            p.params_text = os.str();
        }
        parts.push_back(std::move(p));
    }
    return parts;
}

worker::ContextSettings context_settings(const toml::table& t) {
    worker::ContextSettings c;
    c.run = t["run_id"].value_or(int64_t(0));
    c.seed = uint64_t(t["seed"].value_or(int64_t(0)));
    c.threads = int(t["threads"].value_or(int64_t(1)));
    c.device = t["device"].value_or(std::string("auto"));
    if (c.device == "auto") c.device = torch::cuda::is_available() ? "cuda" : "cpu";
    c.data = t["data_dir"].value_or(std::string("data"));
    c.cache = t["cache_dir"].value_or(std::string("results/cache"));
    c.run_dir = t["run_dir"].value_or(std::string("results/runs"));
    c.stop_on_nonfinite = t["on_nonfinite"].value_or(std::string("stop")) != "record";
    return c;
}

// Runs one trial; returns the first non-finite loss when the sweep recorded it and went on.
std::optional<worker::Divergence> run_trial(PluginObjects& worker, const toml::table& t) {
    WorkerContext ctx(context_settings(t));
    int threads = ctx.threads();
    uint64_t seed = ctx.seed();
    std::vector<Part> parts = parse_parts(t);
    // Only when it changes: set_num_threads rebuilds libtorch's thread pools (~8 ms a call here).
    static int current_threads = -1;
    if (threads != current_threads) {
        torch::set_num_threads(threads);
        current_threads = threads;
    }
    torch::manual_seed(seed);
    std::shared_ptr<Benchmark> bench;
    std::unique_ptr<Model> model;
    std::unique_ptr<Method> method;
    std::vector<std::unique_ptr<Metric>> metric_objs;
    std::vector<std::pair<std::string, Metric*>> metrics;
    std::string model_name, method_name;
    for (const auto& p : parts) {
        if (p.role == "dataset")
            bench = worker.benchmark(p, ctx);
        else if (p.role == "model") {
            model = worker.create<Model>(p, ctx);
            model_name = p.name;
        } else if (p.role == "method") {
            method = worker.create<Method>(p, ctx);
            method_name = p.name;
        } else if (p.role == "metric") {
            metric_objs.push_back(worker.create<Metric>(p, ctx));
            metrics.emplace_back(p.name, metric_objs.back().get());
        }
    }
    torch::manual_seed(seed); // data loading must not shift the model's initial weights
    TrialSession session(worker, parts, bench, model.get(), model_name, metrics, ctx);
    tagged("method '" + method_name + "'", [&] { method->run(session); });
    return ctx.divergence();
}

// Runs one trial payload; returns the record that ends it (Done, or Error with the reason).
protocol::Record run_one(PluginObjects& worker, const std::string& payload) {
    auto parsed = toml::parse(payload);
    protocol::Record end;
    end.run = parsed ? parsed.table()["run_id"].value_or(int64_t(0)) : 0;
    end.kind = protocol::Record::Kind::Error;
    try {
        if (!parsed) throw std::runtime_error("bad trial payload: " + std::string(parsed.error().description()));
        if (auto d = run_trial(worker, parsed.table())) { // on_nonfinite = "record": it ran to the end
            end.status = RunStatus::Diverged;
            end.step = d->step;
            end.text = d->what() + " (on_nonfinite = \"record\": the trial ran to its end)";
        } else {
            end.kind = protocol::Record::Kind::Done;
        }
    } catch (const Diverged& d) {
        end.status = RunStatus::Diverged;
        end.step = d.step;
        end.text = d.what();
    } catch (const Cancelled&) {
        end.status = RunStatus::Interrupted;
        end.text = "cancelled";
    } catch (const std::bad_alloc&) {
        int64_t limit = parsed ? parsed.table()["memory_mb"].value_or(int64_t(0)) : 0;
        end.text = "out of memory: an allocation failed" +
                   (limit > 0 ? " under the sweep's memory_mb = " + std::to_string(limit) + " limit" : std::string());
    } catch (const std::exception& e) {
        end.text = first_line(e.what());
    }
    return end;
}

// glibc hands every freed block above its mmap threshold back to the kernel, and the next tensor
// of that size page-faults it in again, zero-filled: with a batch of 1,024 images through a small
// ResNet that was a quarter of the trial's time here (page faults at 53,000/s; an E-SSL trial went
// from 1m43s to 1m03s with freed memory kept). Keep it in the heap instead: blocks up to glibc's
// largest threshold (32 MiB) come from the heap and the heap's top is not trimmed.
void keep_freed_memory() {
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

} // namespace
} // namespace iclr

extern "C" __attribute__((visibility("default"))) int iclr_worker_main() {
    using namespace iclr;
    if (!worker::open_record_channel()) {
        std::fprintf(stderr, "iclr __worker: started without a record channel (the host runs this)\n");
        return 2;
    }
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
        signal(sig, on_crash);
    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGINT, SIG_IGN); // the host decides what Ctrl-C means
    torch::set_num_interop_threads(1);
    keep_freed_memory();
    protocol::Record ready;
    ready.kind = protocol::Record::Kind::Ready;
    ready.pid = getpid();
    ready.device = torch::cuda::is_available() ? "cuda" : "cpu";
    ready.torch_version = host_torch_version();
    ready.kernels = worker::compute_kernels();
    worker::record(ready);
    flush_records();

    PluginObjects worker;
    for (auto cmd = protocol::read_command(std::cin); cmd.kind == protocol::Command::Kind::Trial;
         cmd = protocol::read_command(std::cin)) {
        protocol::Record end = run_one(worker, cmd.payload);
        // What the trial freed goes back to the system between trials (within one, keep_freed_memory
        // keeps it): a worker's private memory is then its current trial's, not its largest one's.
        malloc_trim(0);
        if (end.kind == protocol::Record::Kind::Error) {
            std::fprintf(stderr, "error: %s\n", end.text.c_str());
            std::fflush(stderr);
        }
        worker::record(end);
        std::fflush(stdout);
        flush_records();
        if (end.kind == protocol::Record::Kind::Error && end.status == RunStatus::Interrupted) break;
    }
    flush_records();
    return 0;
}
