// MNIST and Fashion-MNIST for data set plugins: IDX files -> a task stream (class splits, permuted
// or rotated variants) and shifted test sets, deterministic in the plugin's parameters. Included by
// name (sdk.hpp leaves it out); the code is sdk/src/idx.cpp, in libiclr_sdk_helpers.a, so a data
// set built outside the tree from these two (the only data here) reads them as the tree's own do.
#pragma once

#include "iclr/sdk.hpp"

namespace iclr::idx {

// Maps an IDX file (big-endian header: magic, dims; then unsigned bytes) as a uint8 tensor of the
// stored shape, without copying: the pages are the kernel's page cache, shared by every worker
// that maps the same file, and only the pages a trial's subset touches are read. `make data`
// leaves the files decoded (no gzip), so they are the compact uint8 cache themselves. Private
// copy-on-write: an in-place change stays in this process and never reaches the file.
torch::Tensor read(const std::filesystem::path& file);

// The 256 values (u / 255 - mean) / sd, computed with exactly those tensor operations.
torch::Tensor normalisation_table(double mean, double sd);

// Rows `rows` of uint8 images [N, H, W] (all rows when undefined), normalised, as float32 of shape
// [n, 1, H, W]: the 256 possible values come from normalisation_table and are looked up, one pass
// over the pixels instead of four (the same bits: tests/plugins/datasets_test.cpp compares the two
// on all of MNIST), straight from the mapped file with no uint8 copy in between.
torch::Tensor normalised_rows(const torch::Tensor& u8, const torch::Tensor& rows, double mean, double sd);

// All of u8, normalised as above.
torch::Tensor normalised(const torch::Tensor& u8, double mean, double sd);

// Each class has one fixed shuffled order of its examples, drawn from (seed, class, which split)
// alone, so it does not depend on which other classes a task holds or in what order they come.
// Keeps the window [skip, skip + per_class) of that order (per_class 0 = all after skip): two
// windows of the same order that do not overlap share no example. The kept rows, ascending.
torch::Tensor select_rows(const torch::Tensor& y, const std::vector<int64_t>& classes, int64_t per_class, int64_t skip,
                          uint64_t seed, uint64_t split_stream);

// Those rows of x and y.
Split select(const torch::Tensor& x, const torch::Tensor& y, const std::vector<int64_t>& classes, int64_t per_class,
             int64_t skip, uint64_t seed, uint64_t split_stream);

// Rotates [N, 1, H, W] images by `degrees` about their centre (bilinear, zero fill).
torch::Tensor rotate(const torch::Tensor& x, double degrees, double fill);

// Out-of-distribution copies of a test split (LP-FT), on the [0, 1] pixel scale u = x · sd + mean:
// a rotation, Gaussian noise (clipped to [0, 1]), contrast pulled toward each image's mean, strokes
// thickened (max filter) or thinned (min filter). Named "rotation", "noise", "contrast", "stroke".
struct Shifts {
    double rotation = 0, noise = 0, contrast = 1;
    int64_t stroke = 0;

    bool any() const { return rotation != 0 || noise > 0 || contrast < 1 || stroke != 0; }

    std::map<std::string, Split> apply(const Split& test, double mean, double sd, uint64_t seed) const;
};

struct Stats {
    const char* folder; // under the data dir
    double mean, sd;    // of pixel/255 over the training set
    const char* name;
};

// The two sets' statistics, written once: every plugin that builds from them normalises as these.
inline constexpr Stats kMnist{"mnist", 0.1307, 0.3081, "mnist"};
inline constexpr Stats kFashionMnist{"fashion-mnist", 0.2860, 0.3530, "fashion_mnist"};

// One split of a set as `make data` stores it: images [N, 28, 28] uint8 (mapped, as read() does)
// and labels [N] int64.
struct Stored {
    torch::Tensor images;
    torch::Tensor labels;
};

// The "train" or "test" split of `stats`'s set under data_dir (ctx.data_dir()); PluginError naming
// the file when one is missing or unreadable, or when the image and label counts differ.
Stored read_split(const std::filesystem::path& data_dir, const Stats& stats, const std::string& split);

// The parameters of a task stream, declared once (declare.hpp). A data set built on a stream holds
// them as a member of its own Params, before or after its own fields:
//   struct Params { iclr::idx::StreamParams stream; iclr::Float label_noise{...}; };
struct StreamParams {
    List tasks{"tasks", "[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]", "class ids of each task, in training order"};
    Int train_per_class{"train_per_class", 0, 0, 7000, "training examples kept per class (0 = all)"};
    Int train_skip{"train_skip", 0, 0, 7000,
                   "training examples of each class passed over before the kept ones (in the class's fixed shuffled "
                   "order): a set with train_skip >= another's train_per_class and the same split_seed shares none of "
                   "its images"};
    Int test_per_class{"test_per_class", 0, 0, 1000, "test examples kept per class (0 = all)"};
    Int split_seed{"split_seed", 0, 0, 1000000, "seed of the subset choice and of the task permutations"};
    String transform{"transform", "none", "none|permute|rotate",
                     "per-task input change: none, a fixed pixel permutation per task (task 0 plain), or a rotation"};
    Float rotation{"rotation", 0.0, -360.0, 360.0, "degrees of rotation per task index when transform = rotate"};
    Float ood_rotation{"ood_rotation", 0.0, -180.0, 180.0,
                       "shifted test set 'rotation': every task's test images rotated by this many degrees (0 = none)"};
    Float ood_noise{
        "ood_noise", 0.0, 0.0, 2.0,
        "shifted test set 'noise': Gaussian noise of this sd on the [0, 1] pixel scale, clipped (0 = none)"};
    Float ood_contrast{"ood_contrast", 1.0, 0.0, 1.0,
                       "shifted test set 'contrast': pixels pulled toward the image mean, m + c (x - m) (1 = none)"};
    Int ood_stroke{"ood_stroke", 0, -3, 3,
                   "shifted test set 'stroke': strokes thickened by k px (max filter), thinned if negative (0 = none)"};
};

// A task stream from IDX files. Task t holds the examples whose label is in tasks[t]; with
// transform = "permute" task t > 0 applies its own fixed pixel permutation, with "rotate" a
// rotation of t * rotation degrees (task 0 is always the plain data).
class TaskStream : public Dataset {
  public:
    TaskStream(Stats stats, const StreamParams& p);

    Benchmark load(RunContext& ctx) override;

  private:
    Stats stats_;
    std::vector<std::vector<int64_t>> tasks_;
    int64_t train_per_class_, train_skip_, test_per_class_, split_seed_;
    std::string transform_;
    double rotation_;
    Shifts shifts_;
};

} // namespace iclr::idx
