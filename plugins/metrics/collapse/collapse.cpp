// Metric plugin `collapse`: has the representation collapsed? The spread of the L2-normalised test
// features (SimSiam's indicator) and their effective rank (Roy & Vetterli), at the end of a run.
#include "iclr/sdk.hpp"

namespace {

class Collapse : public iclr::Metric {
  public:
    Collapse(const iclr::ParamSet&, iclr::RunContext&) {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::End) return;
        std::vector<torch::Tensor> fs; // every task's test images, each task embedded as its own
        for (size_t i = 0; i < b.tasks.size(); ++i)
            fs.push_back(iclr::eval_features(learner, b.tasks[i].test.x, int64_t(i)));
        auto f = torch::cat(fs);
        log_spread(f, e.step, ctx);
        log_effective_rank(f, e.step, ctx);
    }

  private:
    // Each feature vector L2-normalised; the std of each dimension over the images (biased),
    // averaged over dimensions (embedding_std), and times sqrt(D) (embedding_std_scaled: about 1
    // for directions spread over the sphere, 0 when every image points the same way).
    static void log_spread(const torch::Tensor& f, int64_t step, iclr::RunContext& ctx) {
        auto n = torch::nn::functional::normalize(f, torch::nn::functional::NormalizeFuncOptions().dim(1));
        double sd = n.std(0, false).mean().item<double>();
        ctx.log("embedding_std", sd, step);
        ctx.log("embedding_std_scaled", sd * std::sqrt(double(f.size(1))), step);
    }
    // exp(-sum_k p_k log p_k), p_k = s_k / sum_j s_j over the singular values of the [N, D] matrix,
    // not centred (as RankMe): one vector for every image has rank 1.
    static void log_effective_rank(const torch::Tensor& f, int64_t step, iclr::RunContext& ctx) {
        auto s = torch::linalg_svdvals(f.to(torch::kDouble));
        auto p = s / s.sum();
        auto nz = p.masked_select(p > 0);
        ctx.log("effective_rank", std::exp(-(nz * nz.log()).sum().item<double>()), step);
    }
};

} // namespace

ICLR_PLUGIN(iclr::Metric, Collapse, "collapse", "0.1.0",
            "Chen, He. Exploring Simple Siamese Representation Learning. CVPR 2021 (std of l2-normalised outputs); "
            "Roy, Vetterli. The effective rank. EUSIPCO 2007; Garrido et al. RankMe. ICML 2023.",
            "at the end, over the test features: embedding_std, embedding_std_scaled (x sqrt(D)), effective_rank")
