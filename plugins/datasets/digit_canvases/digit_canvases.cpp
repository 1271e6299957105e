// Dataset plugin `digit_canvases`: several MNIST digits on one canvas, in distinct cells of a grid,
// among fragments of other digits; the label is the digits read in order (one class per string).
// A detection-like task (what is where) small enough for a 2-core machine: Sparse DETR's data.
#include <cmath>

#include "iclr/idx.hpp"

namespace {

constexpr double kMean = iclr::idx::kMnist.mean, kSd = iclr::idx::kMnist.sd; // MNIST's: a blank canvas is MNIST's black

class DigitCanvases : public iclr::Dataset {
  public:
    DigitCanvases(const iclr::ParamSet& p, iclr::RunContext&)
        : digits_(p.get_int("digits")), grid_(p.get_int("grid")), train_size_(p.get_int("train_size")),
          test_size_(p.get_int("test_size")), distractors_(p.get_int("distractors")), fragment_(p.get_int("fragment")),
          seed_(uint64_t(p.get_int("split_seed"))) {
        if (digits_ > grid_ * grid_)
            throw iclr::PluginError("digits = " + std::to_string(digits_) + " do not fit in a " +
                                    std::to_string(grid_) + " x " + std::to_string(grid_) + " grid");
        if (distractors_ > 0 && digits_ == grid_ * grid_)
            throw iclr::PluginError("distractors need an empty cell: digits fill the whole grid");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        iclr::Benchmark b;
        b.name = "digit_canvases";
        b.input_shape = {1, 28 * grid_, 28 * grid_};
        b.num_classes = int64_t(std::llround(std::pow(10.0, double(digits_))));
        iclr::Task task;
        task.name = "canvases";
        for (int64_t c = 0; c < b.num_classes; ++c)
            task.classes.push_back(c);
        task.train = canvases(iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "train"), train_size_, 0);
        task.test = canvases(iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "test"), test_size_, 1);
        b.tasks.push_back(std::move(task));
        return b;
    }

  private:
    // n canvases from one MNIST split's mapped files; everything drawn from (split_seed, stream).
    iclr::Split canvases(const iclr::idx::Stored& split, int64_t n, uint64_t stream) const {
        const auto& [images, labels] = split;
        auto g = iclr::make_generator(seed_ + 0xca7u, stream);
        int64_t cells = grid_ * grid_, side = 28 * grid_, f = fragment_;
        // Which cells hold digits: the first `digits` of a random order, read in raster order.
        auto where = std::get<0>(torch::argsort(torch::rand({n, cells}, g), 1, false).slice(1, 0, digits_).sort(1));
        auto pick = torch::randint(0, images.size(0), {n, digits_}, g, torch::kLong);
        auto src = torch::randint(0, images.size(0), {n, distractors_}, g, torch::kLong);
        auto slot = torch::randint(0, cells - digits_ > 0 ? cells - digits_ : 1, {n, distractors_}, g, torch::kLong);
        auto cut = torch::randint(0, 28 - f + 1, {n, distractors_, 2}, g, torch::kLong);
        auto put = torch::randint(0, 28 - f + 1, {n, distractors_, 2}, g, torch::kLong);
        auto out = torch::zeros({n, side, side}, torch::kUInt8);
        auto W = where.accessor<int64_t, 2>();
        auto P = pick.accessor<int64_t, 2>();
        auto S = src.accessor<int64_t, 2>();
        auto E = slot.accessor<int64_t, 2>();
        auto K = cut.accessor<int64_t, 3>();
        auto Q = put.accessor<int64_t, 3>();
        auto pixels = images.contiguous();
        const uint8_t* img = pixels.data_ptr<uint8_t>();
        uint8_t* o = out.data_ptr<uint8_t>();
        iclr::Split s;
        s.y = torch::zeros({n}, torch::kLong);
        for (int64_t k = 0; k < digits_; ++k) {
            s.factors["digit" + std::to_string(k)] = labels.index_select(0, pick.select(1, k));
            s.factors["cell" + std::to_string(k)] = where.select(1, k).clone();
            s.y = s.y * 10 + s.factors["digit" + std::to_string(k)];
        }
        for (int64_t i = 0; i < n; ++i) {
            uint8_t* canvas = o + i * side * side;
            std::vector<bool> used(size_t(cells), false);
            for (int64_t k = 0; k < digits_; ++k) {
                used[size_t(W[i][k])] = true;
                paste(canvas, img + P[i][k] * 784, 0, 0, 28, 28 * (W[i][k] / grid_), 28 * (W[i][k] % grid_));
            }
            std::vector<int64_t> empty;
            for (int64_t c = 0; c < cells; ++c)
                if (!used[size_t(c)]) empty.push_back(c);
            for (int64_t k = 0; k < distractors_; ++k) {
                int64_t c = empty[size_t(E[i][k])];
                paste(canvas, img + S[i][k] * 784, K[i][k][0], K[i][k][1], f, 28 * (c / grid_) + Q[i][k][0],
                      28 * (c % grid_) + Q[i][k][1]);
            }
        }
        s.x = iclr::idx::normalised(out, kMean, kSd);
        return s;
    }

    // The size x size square of a 28x28 image at (y0, x0) onto the canvas at (y, x), by maximum
    // (overlapping strokes keep the brighter pixel, as ink on one sheet).
    void paste(uint8_t* canvas, const uint8_t* image, int64_t y0, int64_t x0, int64_t size, int64_t y,
               int64_t x) const {
        int64_t side = 28 * grid_;
        for (int64_t r = 0; r < size; ++r)
            for (int64_t c = 0; c < size; ++c) {
                uint8_t& px = canvas[(y + r) * side + x + c];
                px = std::max(px, image[(y0 + r) * 28 + x0 + c]);
            }
    }

    int64_t digits_, grid_, train_size_, test_size_, distractors_, fragment_;
    uint64_t seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, DigitCanvases, "digit_canvases", "0.1.0",
            "MNIST (LeCun et al. 1998) digits placed on a grid with clutter: a detection-like task for Roh et al. "
            "Sparse DETR: Efficient End-to-End Object Detection with Learnable Sparsity. ICLR 2022.",
            "`digits` MNIST digits in distinct cells of a grid x grid canvas of 28-pixel cells, fragments of other "
            "digits in the empty cells; label = the digits in reading order as one number (factors digitK, cellK)",
            ICLR_INT("digits", 3, 1, 4, "digits per canvas (the label has 10^digits classes)"),
            ICLR_INT("grid", 3, 1, 6, "cells per side; the canvas is 28 * grid pixels square"),
            ICLR_INT("train_size", 4000, 1, 1000000, "training canvases (digits drawn from MNIST's training set)"),
            ICLR_INT("test_size", 1000, 1, 1000000, "test canvases (digits drawn from MNIST's test set)"),
            ICLR_INT("distractors", 2, 0, 64,
                     "fragments of other digits per canvas, each inside a uniformly chosen empty cell"),
            ICLR_INT("fragment", 10, 2, 28, "side of each fragment in pixels (a stroke, not a digit)"),
            ICLR_INT("split_seed", 0, 0, 1000000, "seed of every draw (cells, digits, fragments)"))
