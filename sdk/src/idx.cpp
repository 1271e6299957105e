// IDX files to task streams and shifted test sets (iclr/idx.hpp), compiled once into the SDK
// helpers for every data set plugin that reads MNIST or Fashion-MNIST.
#include "iclr/idx.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <numbers>

namespace iclr::idx {

torch::Tensor read(const std::filesystem::path& file) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw PluginError("cannot read " + file.string() + " (run `make data`, or set ICLR_DATA / --data)");
    struct stat st {};
    size_t size = ::fstat(fd, &st) == 0 ? size_t(st.st_size) : 0;
    void* map = size > 0 ? ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    ::close(fd);
    if (map == MAP_FAILED) throw PluginError(file.string() + ": cannot map it (empty or unreadable)");
    auto unmap = [map, size](void*) { ::munmap(map, size); };
    const auto* bytes = static_cast<const unsigned char*>(map);
    auto be32 = [&](size_t at) {
        return int64_t(bytes[at]) << 24 | int64_t(bytes[at + 1]) << 16 | int64_t(bytes[at + 2]) << 8 |
               int64_t(bytes[at + 3]);
    };
    int64_t magic = size >= 4 ? be32(0) : 0;
    size_t header = 4 + 4 * size_t(magic & 0xff);
    if ((magic >> 8) != 0x08 || (magic & 0xff) < 1 || (magic & 0xff) > 3 || size < header) {
        unmap(nullptr);
        throw PluginError(file.string() + ": not an unsigned-byte IDX file");
    }
    std::vector<int64_t> dims;
    size_t count = 1;
    for (int64_t d = 0; d < (magic & 0xff); ++d) {
        dims.push_back(be32(4 + 4 * size_t(d)));
        count *= size_t(dims.back());
    }
    if (size - header < count) {
        unmap(nullptr);
        throw PluginError(file.string() + ": truncated");
    }
    return torch::from_blob(const_cast<unsigned char*>(bytes) + header, dims, unmap, torch::kUInt8);
}

torch::Tensor normalisation_table(double mean, double sd) {
    return torch::arange(256, torch::kInt64).to(torch::kUInt8).to(torch::kFloat32).div_(255.0).sub_(mean).div_(sd);
}

torch::Tensor normalised_rows(const torch::Tensor& u8, const torch::Tensor& rows, double mean, double sd) {
    auto table = normalisation_table(mean, sd);
    auto in = u8.contiguous();
    auto shape = in.sizes().vec();
    int64_t n = shape.empty() ? 0 : shape[0], row = n == 0 ? 0 : in.numel() / n;
    auto index = rows.defined() ? rows.to(torch::kInt64).contiguous() : torch::arange(n);
    shape[0] = index.size(0);
    auto out = torch::empty(shape, torch::kFloat32);
    const uint8_t* src = in.data_ptr<uint8_t>();
    const int64_t* idx = index.data_ptr<int64_t>();
    const float* lut = table.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    for (int64_t r = 0; r < index.size(0); ++r) {
        if (idx[r] < 0 || idx[r] >= n) throw PluginError("row " + std::to_string(idx[r]) + " of " + std::to_string(n));
        const uint8_t* from = src + idx[r] * row;
        for (int64_t i = 0; i < row; ++i)
            dst[r * row + i] = lut[from[i]];
    }
    return out.unsqueeze(1);
}

torch::Tensor normalised(const torch::Tensor& u8, double mean, double sd) {
    return normalised_rows(u8, torch::Tensor(), mean, sd);
}

torch::Tensor select_rows(const torch::Tensor& y, const std::vector<int64_t>& classes, int64_t per_class, int64_t skip,
                          uint64_t seed, uint64_t split_stream) {
    std::vector<torch::Tensor> idx;
    for (int64_t c : classes) {
        auto where = torch::nonzero(y == c).flatten();
        auto gen = iclr::make_generator(seed, 1 + 2 * uint64_t(c) + split_stream);
        int64_t n = where.size(0);
        if (skip >= n)
            throw PluginError("skipping " + std::to_string(skip) + " examples of class " + std::to_string(c) +
                              " leaves none (it has " + std::to_string(n) + ")");
        int64_t end = per_class > 0 ? std::min(n, skip + per_class) : n;
        if (skip > 0 || end < n) where = where.index_select(0, torch::randperm(n, gen).slice(0, skip, end));
        idx.push_back(where);
    }
    return std::get<0>(torch::cat(idx).sort());
}

Split select(const torch::Tensor& x, const torch::Tensor& y, const std::vector<int64_t>& classes, int64_t per_class,
             int64_t skip, uint64_t seed, uint64_t split_stream) {
    auto all = select_rows(y, classes, per_class, skip, seed, split_stream);
    return {x.index_select(0, all), y.index_select(0, all)};
}

torch::Tensor rotate(const torch::Tensor& x, double degrees, double fill) {
    if (degrees == 0.0) return x;
    double r = degrees * std::numbers::pi / 180.0;
    auto theta = torch::tensor({{std::cos(r), -std::sin(r), 0.0}, {std::sin(r), std::cos(r), 0.0}}, torch::kFloat32)
                     .unsqueeze(0)
                     .expand({x.size(0), 2, 3});
    auto grid = torch::nn::functional::affine_grid(theta, x.sizes().vec(), false);
    auto out = torch::nn::functional::grid_sample(x - fill, grid,
                                                  torch::nn::functional::GridSampleFuncOptions()
                                                      .mode(torch::kBilinear)
                                                      .padding_mode(torch::kZeros)
                                                      .align_corners(false));
    return out + fill; // pad with the normalised value of a black pixel, not with 0
}

std::map<std::string, Split> Shifts::apply(const Split& test, double mean, double sd, uint64_t seed) const {
    std::map<std::string, Split> out;
    auto pixels = [&](const torch::Tensor& x) { return x * sd + mean; };
    auto back = [&](const torch::Tensor& u) { return (u - mean) / sd; };
    if (rotation != 0) out["rotation"] = {rotate(test.x, rotation, -mean / sd), test.y};
    if (noise > 0) {
        auto gen = iclr::make_generator(seed, 0x0dd);
        auto u = pixels(test.x) + noise * torch::randn(test.x.sizes(), gen);
        out["noise"] = {back(u.clamp(0.0, 1.0)), test.y};
    }
    if (contrast < 1) {
        auto u = pixels(test.x);
        auto m = u.mean({1, 2, 3}, true);
        out["contrast"] = {back(m + contrast * (u - m)), test.y};
    }
    if (stroke != 0) {
        int64_t k = 2 * std::abs(stroke) + 1, pad = std::abs(stroke);
        auto u = pixels(test.x);
        auto pool = [&](const torch::Tensor& t) { return torch::max_pool2d(t, {k, k}, {1, 1}, {pad, pad}); };
        out["stroke"] = {back(stroke > 0 ? pool(u) : -pool(-u)), test.y};
    }
    return out;
}

Stored read_split(const std::filesystem::path& data_dir, const Stats& stats, const std::string& split) {
    if (split != "train" && split != "test") throw PluginError("split '" + split + "': \"train\" or \"test\"");
    auto dir = data_dir / stats.folder;
    std::string stem = split == "train" ? "train" : "t10k";
    Stored s{read(dir / (stem + "-images-idx3-ubyte")), read(dir / (stem + "-labels-idx1-ubyte")).to(torch::kInt64)};
    if (s.images.size(0) != s.labels.size(0))
        throw PluginError(dir.string() + ": " + split + " image and label counts differ");
    return s;
}

TaskStream::TaskStream(Stats stats, const StreamParams& p)
    : stats_(stats), tasks_(p.tasks.int_lists()), train_per_class_(p.train_per_class), train_skip_(p.train_skip),
      test_per_class_(p.test_per_class), split_seed_(p.split_seed), transform_(p.transform()),
      rotation_(p.rotation), shifts_{p.ood_rotation, p.ood_noise, p.ood_contrast, p.ood_stroke} {
    for (const auto& t : tasks_) {
        if (t.empty()) throw PluginError("tasks: a task has no classes");
        for (int64_t c : t)
            if (c < 0 || c > 9) throw PluginError("tasks: class " + std::to_string(c) + " is not in 0-9");
    }
}

Benchmark TaskStream::load(RunContext& ctx) {
    auto norm = [&](const torch::Tensor& u8, const torch::Tensor& rows) {
        return normalised_rows(u8, rows, stats_.mean, stats_.sd);
    };
    // The subsets are chosen on the mapped uint8 images and only they become float: a worker
    // holds its trial's examples, not the whole set four times over.
    auto [xtr, ytr] = read_split(ctx.data_dir(), stats_, "train");
    auto [xte, yte] = read_split(ctx.data_dir(), stats_, "test");
    // Subsets depend only on split_seed and the class, so tasks with the same classes (permuted /
    // rotated streams) hold the same images; permutations use their own stream.
    auto perm_gen = iclr::make_generator(uint64_t(split_seed_) + 0x5eed);
    double black = (0.0 - stats_.mean) / stats_.sd;
    Benchmark b;
    b.name = stats_.name;
    b.input_shape = {1, 28, 28};
    b.num_classes = 10;
    for (size_t t = 0; t < tasks_.size(); ++t) {
        Task task;
        task.classes = tasks_[t];
        task.name = "task" + std::to_string(t);
        auto train = select_rows(ytr, task.classes, train_per_class_, train_skip_, uint64_t(split_seed_), 0);
        auto test = select_rows(yte, task.classes, test_per_class_, 0, uint64_t(split_seed_), 1000);
        task.train = {norm(xtr, train), ytr.index_select(0, train)};
        task.test = {norm(xte, test), yte.index_select(0, test)};
        if (transform_ == "permute" && t > 0) {
            auto perm = torch::randperm(28 * 28, perm_gen);
            for (Split* s : {&task.train, &task.test})
                s->x = s->x.flatten(1).index_select(1, perm).view({-1, 1, 28, 28});
        } else if (transform_ == "rotate") {
            for (Split* s : {&task.train, &task.test})
                s->x = rotate(s->x, rotation_ * double(t), black);
        }
        b.tasks.push_back(std::move(task));
    }
    // Every task's test split (as the tasks hold it), shifted; joined only when a shift is on
    // (the copy was a whole test set of transient memory for nothing).
    if (!shifts_.any()) return b;
    std::vector<torch::Tensor> xs, ys;
    for (const auto& t : b.tasks) {
        xs.push_back(t.test.x);
        ys.push_back(t.test.y);
    }
    b.shifted_tests = shifts_.apply({torch::cat(xs), torch::cat(ys)}, stats_.mean, stats_.sd, uint64_t(split_seed_));
    return b;
}

} // namespace iclr::idx
