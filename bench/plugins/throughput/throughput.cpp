// Benchmark method `throughput`: times plain SGD steps of the sweep's model + a linear head on the
// first task's training data (samples/s), or the machine's GEMM rate (mode = "gemm"). The same
// loop is written in PyTorch in bench/peers/torch_train.py, so the two can be compared.
#include <chrono>

#include "iclr/sdk.hpp"

namespace {

class Throughput : public iclr::Method {
  public:
    Throughput(const iclr::ParamSet& p, iclr::RunContext&)
        : mode_(p.get_string("mode")), steps_(p.get_int("steps")), warmup_(p.get_int("warmup")),
          batch_(p.get_int("batch_size")), lr_(p.get_float("lr")), gemm_n_(p.get_int("gemm_n")) {}

    void run(iclr::Session& s) override {
        auto& ctx = s.ctx();
        if (mode_ == "gemm") return gemm(ctx);
        const iclr::Benchmark& b = s.benchmark();
        auto backbone = s.new_backbone();
        torch::nn::Linear head(backbone->feature_dim(), b.num_classes);
        std::vector<torch::Tensor> params = backbone->parameters();
        for (auto& p : head->parameters())
            params.push_back(p);
        torch::optim::SGD opt(params, torch::optim::SGDOptions(lr_));
        // One fixed shuffle, then contiguous minibatches: the Python peer does exactly the same.
        auto gen = at::detail::createCPUGenerator(ctx.seed());
        auto order = torch::randperm(b.tasks[0].train.size(), gen);
        auto x = b.tasks[0].train.x.index_select(0, order).contiguous();
        auto y = b.tasks[0].train.y.index_select(0, order).contiguous();
        int64_t n = x.size(0) / batch_ * batch_;
        auto step = [&](int64_t k) {
            int64_t i = (k * batch_) % n;
            opt.zero_grad();
            auto loss = torch::nn::functional::cross_entropy(
                head->forward(backbone->forward(x.slice(0, i, i + batch_))), y.slice(0, i, i + batch_));
            loss.backward();
            opt.step();
        };
        backbone->train();
        for (int64_t k = 0; k < warmup_; ++k)
            step(k);
        auto t0 = std::chrono::steady_clock::now();
        for (int64_t k = 0; k < steps_; ++k) {
            ctx.check_cancelled();
            step(warmup_ + k);
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ctx.log("samples_per_s", double(steps_ * batch_) / secs);
        ctx.log("seconds", secs);
        ctx.set_attribute("param_count", std::to_string(backbone->param_count()));
    }

  private:
    // n x n x n single-precision matrix products: the practical BLAS limit of these cores.
    void gemm(iclr::RunContext& ctx) {
        auto a = torch::randn({gemm_n_, gemm_n_}), bm = torch::randn({gemm_n_, gemm_n_});
        for (int k = 0; k < 3; ++k)
            torch::mm(a, bm);
        int reps = 0;
        auto t0 = std::chrono::steady_clock::now();
        double secs = 0;
        while (secs < 2.0) {
            torch::mm(a, bm);
            ++reps;
            secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        ctx.log("gemm_gflops", 2.0 * double(gemm_n_) * double(gemm_n_) * double(gemm_n_) * reps / secs / 1e9);
    }

    std::string mode_;
    int64_t steps_, warmup_, batch_;
    double lr_;
    int64_t gemm_n_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Throughput, "throughput", "0.1.0", "",
            "benchmark: samples/s of plain SGD steps (model + linear head), or the GEMM rate",
            ICLR_STRING("mode", "train", "train|gemm", "train: time SGD steps; gemm: time n x n matrix products"),
            ICLR_INT("steps", 200, 1, 1000000, "timed steps"), ICLR_INT("warmup", 20, 0, 100000, "untimed steps first"),
            ICLR_INT("batch_size", 256, 1, 65536, "minibatch size"),
            ICLR_FLOAT("lr", 0.01, 0.0, 10.0, "SGD learning rate"),
            ICLR_INT("gemm_n", 1024, 16, 8192, "matrix size for mode = gemm"))
