// Dataset plugin `shapes`: 28x28 images of one shape each, rendered from six known generative
// factors (shape, size, x, y, rotation, intensity) drawn uniformly from a seed; the factors travel
// with the images (Split::factors) for disentanglement metrics.
#include <array>
#include <cmath>
#include <numbers>

#include "iclr/sdk.hpp"

namespace {

constexpr int64_t kSide = 28, kSuper = 4; // 4x4 samples per pixel: edges are anti-aliased

// The factors and their levels, in the order they are drawn. Rotation stays below 90 degrees,
// the smallest symmetry of the three shapes, so every level is a different image for every shape.
struct Levels {
    std::array<const char*, 6> names{"shape", "size", "x", "y", "rotation", "intensity"};
    std::array<int64_t, 6> count{3, 4, 6, 6, 6, 4};
    double half_extent(int64_t l) const { return 3.0 + double(l); }                       // 3..6 px
    double centre(int64_t l) const { return 9.0 + 2.0 * double(l); }                      // 9..19 px
    double angle(int64_t l) const { return double(l) * 15.0 * std::numbers::pi / 180.0; } // 0..75 degrees
    double ink(int64_t l) const { return 0.4 + 0.2 * double(l); }                         // 0.4..1.0
};

// Is (u, v), in the shape's own frame scaled to its half-extent, inside it? 0: square, 1: ellipse
// with axes 1 and 0.5 (so its rotation shows), 2: equilateral triangle of circumradius 1.
bool inside(int64_t shape, double u, double v) {
    if (shape == 0) return std::abs(u) <= 1 && std::abs(v) <= 1;
    if (shape == 1) return u * u + 4 * v * v <= 1;
    const double r3 = std::sqrt(3.0);
    return v >= -0.5 && r3 * u + v <= 1 && -r3 * u + v <= 1;
}

// One image in [0, 1] for the six factor levels f.
void render(const Levels& L, const int64_t* f, float* out) {
    double r = L.half_extent(f[1]), cx = L.centre(f[2]), cy = L.centre(f[3]), a = L.angle(f[4]), ink = L.ink(f[5]);
    double c = std::cos(a), s = std::sin(a);
    for (int64_t py = 0; py < kSide; ++py)
        for (int64_t px = 0; px < kSide; ++px) {
            int64_t hits = 0;
            for (int64_t i = 0; i < kSuper; ++i)
                for (int64_t j = 0; j < kSuper; ++j) {
                    double dx = double(px) + (double(j) + 0.5) / kSuper - cx;
                    double dy = cy - (double(py) + (double(i) + 0.5) / kSuper); // y up
                    hits += inside(f[0], (c * dx + s * dy) / r, (-s * dx + c * dy) / r);
                }
            out[py * kSide + px] = float(ink * double(hits) / double(kSuper * kSuper));
        }
}

class Shapes : public iclr::Dataset {
  public:
    Shapes(const iclr::ParamSet& p, iclr::RunContext&)
        : train_(p.get_int("train_size")), test_(p.get_int("test_size")), seed_(uint64_t(p.get_int("split_seed"))),
          label_(p.get_string("label")) {}

    iclr::Benchmark load(iclr::RunContext&) override {
        Levels L;
        auto label = std::find(L.names.begin(), L.names.end(), label_) - L.names.begin();
        iclr::Task task;
        task.name = "shapes";
        task.train = make(L, train_, 0);
        task.test = make(L, test_, 1);
        // Normalised with the training images' mean and sd, as the IDX data sets are with theirs.
        double mean = task.train.x.mean().item<double>(), sd = task.train.x.std().item<double>();
        for (auto* s : {&task.train, &task.test}) {
            s->x = (s->x - mean) / sd;
            s->y = s->factors.at(label_);
        }
        for (int64_t c = 0; c < L.count[size_t(label)]; ++c)
            task.classes.push_back(c);
        iclr::Benchmark b;
        b.name = "shapes";
        b.input_shape = {1, kSide, kSide};
        b.num_classes = L.count[size_t(label)];
        b.tasks.push_back(std::move(task));
        return b;
    }

  private:
    // n images with every factor drawn uniformly and independently (stream 0: train, 1: test).
    iclr::Split make(const Levels& L, int64_t n, uint64_t stream) const {
        auto gen = iclr::make_generator(seed_ + 0x5a4e5u, stream);
        auto f = torch::empty({n, 6}, torch::kLong);
        for (int64_t k = 0; k < 6; ++k)
            f.select(1, k).copy_(torch::randint(0, L.count[size_t(k)], {n}, gen, torch::kLong));
        auto x = torch::empty({n, 1, kSide, kSide});
        const int64_t* fp = f.data_ptr<int64_t>();
        float* xp = x.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i)
            render(L, fp + 6 * i, xp + i * kSide * kSide);
        iclr::Split s{x, torch::Tensor()};
        for (int64_t k = 0; k < 6; ++k)
            s.factors[L.names[size_t(k)]] = f.select(1, k).clone();
        return s;
    }

    int64_t train_, test_;
    uint64_t seed_;
    std::string label_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, Shapes, "shapes", "0.1.0",
            "Procedural shapes after dSprites (Matthey, Higgins, Hassabis, Lerchner 2017), rendered here: the images "
            "and their factors are a function of split_seed.",
            "28x28 shapes from six known factors (shape 3, size 4, x 6, y 6, rotation 6, intensity 4 levels); label = "
            "one factor; the factors ride along for the mig metric",
            ICLR_INT("train_size", 6000, 1, 1000000, "training images"),
            ICLR_INT("test_size", 2000, 1, 1000000, "test images (the mig metric scores these)"),
            ICLR_INT("split_seed", 0, 0, 1000000, "seed of the factor draws"),
            ICLR_STRING("label", "shape", "shape|size|x|y|rotation|intensity", "the factor used as the class label"))
