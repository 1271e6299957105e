// Dataset plugin `cluttered_mnist`: each MNIST digit pasted at a random place on a larger canvas
// among distractor fragments cut from other digits. The digit's class is the factor a task needs;
// the clutter is what an unsupervised objective must also explain (task-induced representations).
#include "iclr/idx.hpp"

namespace {

constexpr double kMean = iclr::idx::kMnist.mean,
                 kSd = iclr::idx::kMnist.sd; // MNIST's, kept so a blank canvas matches MNIST's black

class ClutteredMnist : public iclr::Dataset {
  public:
    struct Params {
        iclr::idx::StreamParams stream; // the digits: which classes, how many, split_seed
        iclr::Int canvas{"canvas", 40, 28, 112, "canvas side in pixels (the digit is 28 x 28)"};
        iclr::Int distractors{"distractors", 4, 0, 64, "fragments of other digits pasted on each canvas"};
        iclr::Int fragment{"fragment", 14, 2, 28, "side of each distractor fragment in pixels"};
    };

    ClutteredMnist(const Params& p, iclr::RunContext&)
        : digits_(iclr::idx::kMnist, p.stream), canvas_(p.canvas), distractors_(p.distractors), fragment_(p.fragment),
          seed_(uint64_t(p.stream.split_seed)), shifts_{p.stream.ood_rotation, p.stream.ood_noise,
                                                        p.stream.ood_contrast, p.stream.ood_stroke} {
        if (p.stream.transform() != "none") throw iclr::PluginError("cluttered_mnist takes transform = \"none\"");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        auto b = digits_.load(ctx);
        b.name = "cluttered_mnist";
        b.input_shape = {1, canvas_, canvas_};
        // Fragments come from every task's images of the same split, so all canvases share one
        // clutter distribution whichever classes their digit belongs to.
        std::vector<torch::Tensor> train_pool, test_pool;
        for (const auto& t : b.tasks) {
            train_pool.push_back(t.train.x);
            test_pool.push_back(t.test.x);
        }
        auto train_src = pixels(torch::cat(train_pool)), test_src = pixels(torch::cat(test_pool));
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            auto& task = b.tasks[t];
            auto g_train = iclr::make_generator(seed_ + 0xc1u, 2 * t),
                 g_test = iclr::make_generator(seed_ + 0xc1u, 2 * t + 1);
            task.train.x = clutter(pixels(task.train.x), train_src, g_train);
            task.test.x = clutter(pixels(task.test.x), test_src, g_test);
        }
        // The shifted test sets are the cluttered test canvases shifted (the stream's were of the bare
        // 28 x 28 digits, a shape no model built for the canvas takes: ood_accuracy failed until 0.2.0).
        if (shifts_.any()) {
            std::vector<torch::Tensor> xs, ys;
            for (const auto& t : b.tasks) {
                xs.push_back(t.test.x);
                ys.push_back(t.test.y);
            }
            b.shifted_tests = shifts_.apply({torch::cat(xs), torch::cat(ys)}, kMean, kSd, seed_);
        }
        return b;
    }

  private:
    static torch::Tensor pixels(const torch::Tensor& normalised) { return (normalised * kSd + kMean).contiguous(); }

    // digits [N, 1, 28, 28] in [0, 1] -> canvases [N, 1, C, C], normalised as MNIST. The digit goes
    // at a uniform offset; each distractor is a fragment x fragment square at a uniform place of a
    // uniformly chosen image of the pool, at a uniform place of the canvas; overlaps keep the
    // brighter pixel (ink over ink, as strokes drawn on one sheet).
    torch::Tensor clutter(const torch::Tensor& digits, const torch::Tensor& pool, torch::Generator& g) const {
        int64_t n = digits.size(0), c = canvas_, f = fragment_;
        auto out = torch::zeros({n, 1, c, c});
        auto at = torch::randint(0, c - 28 + 1, {n, 2}, g, torch::kLong);
        auto src = torch::randint(0, pool.size(0), {n, distractors_}, g, torch::kLong);
        auto cut = torch::randint(0, 28 - f + 1, {n, distractors_, 2}, g, torch::kLong);
        auto put = torch::randint(0, c - f + 1, {n, distractors_, 2}, g, torch::kLong);
        auto A = at.accessor<int64_t, 2>();
        auto S = src.accessor<int64_t, 2>();
        auto K = cut.accessor<int64_t, 3>(), P = put.accessor<int64_t, 3>();
        const float* d = digits.data_ptr<float>();
        const float* q = pool.data_ptr<float>();
        float* o = out.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i) {
            float* canvas = o + i * c * c;
            paste(canvas, d + i * 784, 0, 0, 28, A[i][0], A[i][1]);
            for (int64_t k = 0; k < distractors_; ++k)
                paste(canvas, q + S[i][k] * 784, K[i][k][0], K[i][k][1], f, P[i][k][0], P[i][k][1]);
        }
        return out.sub_(kMean).div_(kSd);
    }

    // The size x size square of a 28x28 image at (y0, x0) onto the canvas at (y, x), by maximum.
    void paste(float* canvas, const float* image, int64_t y0, int64_t x0, int64_t size, int64_t y, int64_t x) const {
        for (int64_t r = 0; r < size; ++r)
            for (int64_t s = 0; s < size; ++s) {
                float& px = canvas[(y + r) * canvas_ + x + s];
                px = std::max(px, image[(y0 + r) * 28 + x0 + s]);
            }
    }

    iclr::idx::TaskStream digits_;
    int64_t canvas_, distractors_, fragment_;
    uint64_t seed_;
    iclr::idx::Shifts shifts_; // the stream's ood_* keys, applied to the canvases
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, ClutteredMnist, "cluttered_mnist", "0.2.0",
            "MNIST (LeCun et al. 1998) on cluttered canvases, after the distractor settings of Yamada, Pertsch, Zhang, "
            "Lim. Task-Induced Representation Learning. ICLR 2022.",
            "each MNIST digit at a random place on a larger canvas among fragments of other digits (label = the digit)")
