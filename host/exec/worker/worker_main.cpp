// The worker process: loads libtorch and plugins once, then runs trials sent by the host.
// The worker's sources are the only host-side code that includes torch; built as libiclr_worker.so and
// loaded by `iclr __worker`, so commands that neither train nor check constructors never load libtorch.
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
#include <mutex>
#include <optional>
#include <string>

#include <toml++/toml.h>
#include <torch/torch.h>

#include "exec/protocol.hpp"
#include "exec/worker/benchmark_check.hpp"
#include "exec/worker/kernels.hpp"
#include "exec/worker/plugin_objects.hpp"
#include "exec/worker/worker_context.hpp"
#include "iclr/sdk.hpp"
#include "plugin/plugin_loader.hpp"

namespace iclr {
namespace {

using worker::context_settings;
using worker::first_line;
using worker::flush_records;
using worker::g_cancelled;
using worker::parse_parts;
using worker::Part;
using worker::PluginObjects;
using worker::shape_text;
using worker::tagged;
using worker::WorkerContext;

void on_term(int) { g_cancelled.store(true); }

void on_crash(int sig) {
    flush_records();
    signal(sig, SIG_DFL);
    raise(sig);
}

// libtorch's global generators (the CPU's, and the trial's device's) as they were when made, put
// back when it ends. A metric that draws from them (torch::rand without a generator, a dropout layer
// left in training mode) would otherwise move every draw the training makes after it, so adding a
// [[metric]] to a sweep could change the other metrics' rows; verify --against pairs the runs of a
// sweep without it with this one's trials on the premise that it cannot. Kept around each metric,
// so that no metric's draws move the next one's either: the key lists metrics by name, not in the
// order the sweep file had them (common/trial_key.hpp), and runs of either order are one trial.
class GlobalGeneratorsKept {
  public:
    explicit GlobalGeneratorsKept(const std::string& device) {
        keep(at::detail::getDefaultCPUGenerator());
        if (device != "cpu") keep(at::globalContext().defaultGenerator(torch::Device(device)));
    }
    ~GlobalGeneratorsKept() {
        for (auto& [g, state] : kept_) {
            std::lock_guard<std::mutex> lock(g.mutex());
            g.set_state(state);
        }
    }
    GlobalGeneratorsKept(const GlobalGeneratorsKept&) = delete;
    GlobalGeneratorsKept& operator=(const GlobalGeneratorsKept&) = delete;

  private:
    void keep(at::Generator g) {
        std::lock_guard<std::mutex> lock(g.mutex());
        auto state = g.get_state();
        kept_.emplace_back(std::move(g), std::move(state));
    }
    std::vector<std::pair<at::Generator, at::Tensor>> kept_;
};

class TrialSession : public Session {
  public:
    TrialSession(PluginObjects& worker, const std::vector<Part>& parts, std::shared_ptr<Benchmark> b, Model* model,
                 std::string model_name, std::vector<std::pair<std::string, Metric*>> metrics, WorkerContext& ctx,
                 bool method_reads_pretrain)
        : worker_(worker), parts_(parts), bench_(std::move(b)), model_(model), model_name_(std::move(model_name)),
          metrics_(std::move(metrics)), ctx_(ctx), method_reads_pretrain_(method_reads_pretrain) {}
    const Benchmark& benchmark() override {
        if (!bench_) throw PluginError("this sweep has no [dataset]");
        return *bench_;
    }
    std::shared_ptr<Backbone> new_backbone() override {
        if (!model_) throw PluginError("this sweep has no [model]");
        auto shape = bench_ ? bench_->input_shape : std::vector<int64_t>{};
        return tagged("model '" + model_name_ + "'", [&] {
            built_ = true;
            auto b = model_->build(shape, ctx_); // on the CPU: the same initial weights on every device
            if (ctx_.device() != "cpu") b->to(torch::Device(ctx_.device()));
            return b;
        });
    }
    void notify(const Event& e, Learner& learner) override {
        ctx_.check_cancelled();
        check_finite(e, learner);
        static const Benchmark empty;
        WorkerContext::EventScope shared(ctx_); // the metrics share what they evaluate (test accuracies)
        for (auto& [name, m] : metrics_) {
            GlobalGeneratorsKept kept(ctx_.device()); // each metric from the same state: their order moves nothing
            tagged("metric '" + name + "'", [&] { m->on_event(e, learner, bench_ ? *bench_ : empty, ctx_); });
        }
    }
    RunContext& ctx() override { return ctx_; }
    bool built_a_backbone() const { return built_; }
    // A method that does not declare reading [pretrain] was keyed without it: were it to read it,
    // its results would depend on data its trials' keys and configs do not name.
    const Benchmark* pretrain_benchmark() override {
        if (!method_reads_pretrain_)
            throw PluginError("it calls pretrain_benchmark() but does not declare that it reads [pretrain]: add "
                              "`static constexpr bool reads_pretrain = true;` to its class (sdk/README.md), so that "
                              "its trials' keys include the sweep's [pretrain]");
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
                       (worker::is_data_role(role) ? " data " + worker_.data_identity(ctx_) : "");
        return "";
    }

  private:
    // A loss that turns NaN between two logged values (log_every 50 over a 20-step task: never
    // logged) left the trial `done` with NaN weights and chance accuracy, counted by the claims.
    // NaN or inf weights are found here, before the metrics read them, once per trial.
    void check_finite(const Event& e, Learner& learner) {
        if (nonfinite_) return;
        torch::NoGradGuard no_grad;
        for (const auto& p : learner.trainable())
            if (p.defined() && !torch::isfinite(p).all().item<bool>()) {
                nonfinite_ = true;
                ctx_.diverged("the trainable parameters", "non-finite", e.step);
                return;
            }
    }

    PluginObjects& worker_;
    const std::vector<Part>& parts_;
    std::shared_ptr<Benchmark> pretrain_;
    std::shared_ptr<Benchmark> bench_;
    Model* model_;
    std::string model_name_;
    std::vector<std::pair<std::string, Metric*>> metrics_;
    WorkerContext& ctx_;
    bool built_ = false;
    bool nonfinite_ = false; // found once: a trial that records and goes on is not checked again
    bool method_reads_pretrain_;
};

// A model is built for the benchmark's input_shape; a data set whose tasks hold examples of another
// shape (glimpse_evidence's single glimpses before its sequences, for its own RNN method) fails in
// the first layer with libtorch's words ("mat1 and mat2 shapes cannot be multiplied"). Said in the
// sweep's terms, after the failure, for the first task that differs ("" when none does).
std::string shape_mismatch(const Benchmark& b, const std::string& dataset, const std::string& model) {
    for (const auto& task : b.tasks)
        for (const Split* split : {&task.train, &task.test})
            if (split->x.defined() && split->x.dim() >= 1 &&
                split->x.sizes().slice(1) != c10::IntArrayRef(b.input_shape))
                return " (dataset '" + dataset + "': task '" + task.name + "' holds examples of shape " +
                       shape_text(split->x.sizes().slice(1)) + ", not the input_shape " + shape_text(b.input_shape) +
                       " model '" + model + "' was built for)";
    return "";
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
    std::string dataset_name, model_name, method_name;
    bool reads_pretrain = true;
    for (const auto& p : parts) {
        if (p.role == "dataset") {
            bench = worker.benchmark(p, ctx);
            dataset_name = p.name;
        } else if (p.role == "model") {
            model = worker.create<Model>(p, ctx);
            model_name = p.name;
        } else if (p.role == "method") {
            method = worker.create<Method>(p, ctx);
            method_name = p.name;
            reads_pretrain = worker.reads_pretrain(p);
        } else if (p.role == "metric") {
            metric_objs.push_back(worker.create<Metric>(p, ctx));
            metrics.emplace_back(p.name, metric_objs.back().get());
        }
    }
    torch::manual_seed(seed); // data loading must not shift the model's initial weights
    TrialSession session(worker, parts, bench, model.get(), model_name, metrics, ctx, reads_pretrain);
    try {
        tagged("method '" + method_name + "'", [&] { method->run(session); });
    } catch (const worker::TaggedError& e) {
        if (!bench || !session.built_a_backbone()) throw;
        throw worker::TaggedError(e.what() + shape_mismatch(*bench, dataset_name, model_name));
    }
    return ctx.divergence();
}

// A CHECK payload: each part's plugin object created with its parameters and deleted (a data set
// loaded instead when the payload says load_data), nothing run. What a constructor refuses is then
// one error before a sweep starts (cli/constructor_check).
void check_parts(PluginObjects& worker, const toml::table& t) {
    WorkerContext ctx(context_settings(t));
    bool load_data = t["load_data"].value_or(false);
    for (const auto& p : parse_parts(t)) {
        torch::manual_seed(ctx.seed()); // as a trial's constructors see it
        if (load_data && worker::is_data_role(p.role))
            worker.benchmark(p, ctx); // kept, as for a trial: the worker's next trials use it
        else
            worker.construct_only(p, ctx);
    }
}

// Runs one trial payload (or only constructs its plugins: `check`); returns the record that ends
// it (Done, or Error with the reason).
protocol::Record run_one(PluginObjects& worker, const std::string& payload, bool check) {
    auto parsed = toml::parse(payload);
    protocol::Record end;
    end.run = parsed ? parsed.table()["run_id"].value_or(int64_t(0)) : 0;
    end.kind = protocol::Record::Kind::Error;
    try {
        if (!parsed) throw std::runtime_error("bad trial payload: " + std::string(parsed.error().description()));
        worker.enter_scope(parsed.table()["data_scope"].value_or(std::string()));
        std::optional<worker::Divergence> d;
        if (check)
            check_parts(worker, parsed.table());
        else
            d = run_trial(worker, parsed.table());
        if (d) { // on_nonfinite = "record": it ran to the end
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
    using Kind = protocol::Command::Kind;
    for (auto cmd = protocol::read_command(std::cin); cmd.kind == Kind::Trial || cmd.kind == Kind::Check;
         cmd = protocol::read_command(std::cin)) {
        protocol::Record end = run_one(worker, cmd.payload, cmd.kind == Kind::Check);
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
        // Stopped (SIGTERM) during a trial that ended anyway, or a check: what the host sent after
        // it (checks are sent ahead, see Scheduler::send_checks_ahead) is left unrun.
        if (g_cancelled.load()) break;
    }
    flush_records();
    return 0;
}
