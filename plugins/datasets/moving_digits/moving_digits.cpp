// Dataset plugin `moving_digits`: short clips of MNIST digits whose label depends on the order of
// the frames, for Fan et al.'s question whether an image classifier (on a super image) suffices
// for action recognition. Clips come in time-reversed pairs with opposite labels, so no function
// of the set of frames (frame averaging, however good its frame classifier) beats chance.
#include <algorithm>

#include "iclr/idx.hpp"
#include "iclr/sdk.hpp"

namespace {

constexpr int64_t kCanvas = 20, kDigit = 14; // 14 x 14 digits (2 x 2 mean-pooled) on a 20 x 20 frame
constexpr double kMean = iclr::idx::kMnist.mean,
                 kSd = iclr::idx::kMnist.sd; // MNIST's pixel statistics, as the mnist plugin normalises

class MovingDigits : public iclr::Dataset {
  public:
    struct Params {
        iclr::String task{"task", "order", "order|direction",
                          "order: the first half of the frames shows digit a, the rest digit b (each frame at a "
                          "random place), label = a < b; direction: one digit moves left or right across the frame, "
                          "label = moves right"};
        iclr::Int frames{"frames", 8, 2, 16, "frames per clip (T)"};
        iclr::Int train_clips{"train_clips", 1000, 2, 1000000, "training clips (even: time-reversed pairs)"};
        iclr::Int test_clips{"test_clips", 1000, 2, 1000000, "test clips (even)"};
        iclr::Int data_seed{"data_seed", 0, 0, 1000000, "seed of the clips (digits, images, places)"};
    };

    MovingDigits(const Params& p, iclr::RunContext&) : p_(p) {
        if (p.train_clips % 2 || p.test_clips % 2)
            throw iclr::PluginError("moving_digits: train_clips and test_clips must be even (clips come in pairs)");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        auto gen = iclr::make_generator(uint64_t(int64_t(p_.data_seed)), 0x51fa);
        iclr::Benchmark b;
        b.name = "moving_digits";
        b.num_classes = 2;
        b.input_shape = {p_.frames, 1, kCanvas, kCanvas};
        iclr::Task t;
        t.name = std::string(p_.task);
        t.classes = {0, 1};
        t.train = clips(pool(iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "train")), p_.train_clips, gen);
        t.test = clips(pool(iclr::idx::read_split(ctx.data_dir(), iclr::idx::kMnist, "test")), p_.test_clips, gen);
        b.tasks.push_back(std::move(t));
        return b;
    }

  private:
    // The split's images as stored and each digit's rows. An image is pooled when a clip draws it:
    // pooling all 60,000 first took most of a load (0.45 s) to use a few thousand.
    struct Pool {
        torch::Tensor images;                // [n, 28, 28] uint8
        std::vector<torch::Tensor> of_digit; // the rows of each digit, ascending
    };

    static Pool pool(const iclr::idx::Stored& split) {
        Pool p{split.images, {}};
        for (int64_t d = 0; d < 10; ++d)
            p.of_digit.push_back(torch::nonzero(split.labels == d).flatten());
        return p;
    }

    // A random image of digit d, [14, 14] in [0, 1] (2 x 2 means: each output pixel is its own
    // window's, so one image pooled alone has the bits it had pooled among all).
    static torch::Tensor image_of(const Pool& p, int64_t d, torch::Generator& gen) {
        const auto& idx = p.of_digit[size_t(d)];
        int64_t row = idx[torch::randint(0, idx.size(0), {1}, gen).item<int64_t>()].item<int64_t>();
        auto x = p.images[row].to(torch::kFloat32).div_(255.0).unsqueeze(0).unsqueeze(0); // [1, 1, 28, 28]
        return torch::avg_pool2d(x, 2).squeeze(0).squeeze(0);
    }

    static int64_t draw(int64_t n, torch::Generator& gen) { return torch::randint(0, n, {1}, gen).item<int64_t>(); }

    // One clip [T, 20, 20] in [0, 1] and its label, drawn from gen.
    std::pair<torch::Tensor, int64_t> clip(const Pool& p, torch::Generator& gen, std::vector<int64_t>& digits) const {
        int64_t T = p_.frames, room = kCanvas - kDigit;
        auto frames = torch::zeros({T, kCanvas, kCanvas});
        auto paste = [&](int64_t t, const torch::Tensor& img, int64_t y0, int64_t x0) {
            frames[t].narrow(0, y0, kDigit).narrow(1, x0, kDigit).copy_(img);
        };
        if (std::string(p_.task) == "order") {
            int64_t a = draw(10, gen), b = (a + 1 + draw(9, gen)) % 10; // two different digits
            auto ia = image_of(p, a, gen), ib = image_of(p, b, gen);
            for (int64_t t = 0; t < T; ++t)
                paste(t, t < T / 2 ? ia : ib, draw(room + 1, gen), draw(room + 1, gen));
            digits = {a, b};
            return {frames, a < b ? 1 : 0};
        }
        int64_t d = draw(10, gen), y0 = draw(room + 1, gen);
        auto img = image_of(p, d, gen);
        for (int64_t t = 0; t < T; ++t) // left to right across the whole frame, evenly
            paste(t, img, y0, (t * room + (T - 1) / 2) / (T - 1));
        digits = {d, d};
        return {frames, 1};
    }

    // n clips as time-reversed pairs: clip 2k+1 is clip 2k backwards, with the other label (the
    // first-shown digit and the direction both flip). x [n, T, 1, 20, 20] normalised, y [n].
    iclr::Split clips(const Pool& p, int64_t n, torch::Generator& gen) const {
        int64_t T = p_.frames;
        auto x = torch::empty({n, T, 1, kCanvas, kCanvas});
        auto y = torch::empty({n}, torch::kInt64);
        auto first = torch::empty({n}, torch::kInt64), second = torch::empty({n}, torch::kInt64);
        std::vector<int64_t> digits;
        for (int64_t k = 0; k < n; k += 2) {
            auto [frames, label] = clip(p, gen, digits);
            x[k].copy_(frames.unsqueeze(1));
            x[k + 1].copy_(frames.flip(0).unsqueeze(1));
            y[k] = label;
            y[k + 1] = 1 - label;
            first[k] = digits[0], second[k] = digits[1];
            first[k + 1] = digits[1], second[k + 1] = digits[0];
        }
        x.sub_(kMean).div_(kSd);
        return {x, y, {{"first_digit", first}, {"second_digit", second}}};
    }

    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, MovingDigits, "moving_digits", "0.1.0",
            "Built for Fan, Chen, Panda. Can an image classifier suffice for action recognition? "
            "ICLR 2022 (their clips are Kinetics / Something-Something videos; these are MNIST stand-ins).",
            "clips of T frames of MNIST digits whose label is carried by frame order (which digit comes first, "
            "or which way one moves), in time-reversed pairs with opposite labels")
